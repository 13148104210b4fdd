// Scaleway zones. Legacy region names from old templates and config files still work.

const legacyZones: Record<string, string> = { par1: 'fr-par-1', ams1: 'nl-ams-1' };

/** `par1` → `fr-par-1`, `ams1` → `nl-ams-1`; a well-formed zone passes; anything else is refused clearly. */
export function normalizeZone(zone: string): string {
  const z = zone.trim().toLowerCase();
  const mapped = legacyZones[z] ?? z;
  if (!/^[a-z]{2}-[a-z]{3}-\d+$/.test(mapped)) {
    throw new Error(
      `"${zone}" is not a Scaleway zone. Use a zone such as fr-par-1, fr-par-2, nl-ams-1 or pl-waw-1 (legacy par1 and ams1 are accepted).`,
    );
  }
  return mapped;
}
