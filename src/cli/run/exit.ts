// The exit statuses of kiln's commands (a light module: imported before anything heavy loads).
export const EXIT = { ok: 0, failed: 1, invalid: 2, interrupted: 130 } as const;
