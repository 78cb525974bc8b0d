import { InvalidArgumentError } from "commander";

const DATE_HINT = "use an ISO date such as 2026-11-01 or 2026-11-01T00:00:00Z";

/**
 * An option's instant, or the one-line reason it is not one. A date is UTC midnight; a date-time needs its zone,
 * since a zone-less time would depend on this machine's clock.
 */
export function parseInstant(
  name: string,
  value: string | undefined,
): { ok: true; instant: Date } | { ok: false; reason: string } {
  if (value === undefined) return { ok: false, reason: `missing --${name} (${DATE_HINT})` };
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value);
  const instant = new Date(dateOnly ? `${value}T00:00:00Z` : value);
  if (!dateOnly && !dateTime)
    return { ok: false, reason: `--${name} "${value}" is not a date with a time zone (${DATE_HINT})` };
  if (Number.isNaN(instant.getTime()) || !isCalendarDate(value.slice(0, 10)))
    return { ok: false, reason: `--${name} "${value}" is not a day that exists (${DATE_HINT})` };
  return { ok: true, instant };
}

/** A commander argument parser for `--name <time>`, refusing what parseInstant refuses. */
export function instantOption(name: string): (value: string) => Date {
  return (value) => {
    const parsed = parseInstant(name, value);
    if (!parsed.ok) throw new InvalidArgumentError(parsed.reason);
    return parsed.instant;
  };
}

/** JavaScript rolls 2026-02-30 over to March 2; a boundary must be a day that exists. */
function isCalendarDate(date: string): boolean {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  const utc = new Date(Date.UTC(year, month - 1, day));
  return utc.getUTCFullYear() === year && utc.getUTCMonth() === month - 1 && utc.getUTCDate() === day;
}

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
  return Number.isNaN(parsed.getTime()) || !isCalendarDate(trimmed.slice(0, 10)) ? null : parsed;
}
