// The Instance API's catalog: the commercial types (`/products/servers`) and the bootscripts.
import { bootscripts, COMMERCIAL_TYPES, presentCommercialType } from '../../catalog.js';
import { notFound } from '../../http.js';
import { listReply, paginate, type Route } from '../route.js';

export const PRODUCT_ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: '/products/servers',
    handle(_sim, { query }) {
      const { page, total } = paginate(Object.entries(COMMERCIAL_TYPES), query);
      const servers = Object.fromEntries(page.map(([name, type]) => [name, presentCommercialType(type)]));
      return { status: 200, json: { servers }, headers: { 'X-Total-Count': String(total) } };
    },
  },
  {
    method: 'GET',
    pattern: '/bootscripts',
    handle(_sim, { zone, query }) {
      const arch = query.get('arch');
      const isDefault = query.get('default');
      const title = query.get('title');
      const found = bootscripts(zone).filter(
        (b) => (!arch || b.architecture === arch) && (isDefault === null || String(b.default) === isDefault) && (!title || b.title.includes(title)),
      );
      return listReply('bootscripts', found, query, (b) => b);
    },
  },
  {
    method: 'GET',
    pattern: '/bootscripts/{id}',
    handle(sim, request) {
      const bootscript = sim.bootscript(request.zone, request.params.id!);
      if (!bootscript) throw notFound('instance_bootscript', request.params.id!);
      return { status: 200, json: { bootscript } };
    },
  },
];
