// The Marketplace API: the images Scaleway offers and their local variants per zone. No zone
// in the path, and no token needed on real Scaleway.
import { marketplaceImages, marketplaceLocalImages } from '../catalog.js';
import { ApiError } from '../http.js';
import { paginate, type Route } from './route.js';

export const MARKETPLACE_ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: '/marketplace/v1/images',
    marketplace: true,
    handle(_sim, { query }) {
      const images = marketplaceImages();
      const { page, total } = paginate(images, query);
      return { status: 200, json: { images: page, total_count: total }, headers: { 'X-Total-Count': String(total) } };
    },
  },
  {
    method: 'GET',
    pattern: '/marketplace/v1/images/{id}',
    marketplace: true,
    handle(_sim, { params }) {
      const image = marketplaceImages().find((candidate) => candidate.id === params.id);
      if (!image) throw new ApiError(404, { type: 'not_found', message: 'resource is not found', resource: 'marketplace_image', resource_id: params.id });
      return { status: 200, json: { image } };
    },
  },
  {
    method: 'GET',
    pattern: '/marketplace/v2/local-images',
    marketplace: true,
    handle(_sim, { query }) {
      const label = query.get('image_label');
      const zone = query.get('zone');
      const imageId = query.get('image_id');
      const type = query.get('type');
      const found = marketplaceLocalImages().filter(
        (image) =>
          (!label || image.label === label) &&
          (!zone || image.zone === zone) &&
          (!imageId || image.id === imageId) &&
          (!type || type === 'unknown_type' || image.type === type),
      );
      const { page, total } = paginate(found, query);
      return { status: 200, json: { local_images: page, total_count: total }, headers: { 'X-Total-Count': String(total) } };
    },
  },
];
