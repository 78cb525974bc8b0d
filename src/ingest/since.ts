const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `--since`: an ISO date or date-time (`2026-11-20`, `2026-11-20T10:00:00Z`) or a duration back from now (`90m`, `2h`, `3d`, `1w`). */
export function parseSince(value: string, now: Date): Date | null {
  const trimmed = value.trim();
  const duration = /^(\d+)\s*([mhdw])$/.exec(trimmed);
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2]!]!);
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed))
    return null;
  // A bare date or a time without an offset means UTC, like every other time leakguard prints.
  const withZone = /T|\s/.test(trimmed) && !/(Z|[+-]\d{2}:?\d{2})$/.test(trimmed) ? `${trimmed}Z` : trimmed;
  const parsed = new Date(withZone.replace(" ", "T"));
  return Number.isNaN(parsed.getTime()) ? null : parsed;
}
