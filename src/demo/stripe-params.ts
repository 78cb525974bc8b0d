/**
 * Stripe's request encoding (`a[b]=1`, `expand[0]=x`, `expand[]=x`) and list envelope, shared by the
 * local Stripe stand-in. Pure: no I/O.
 */

export type StripeObject = { id: string; object: string; created?: number; [key: string]: unknown };

export type StripeParams = { [key: string]: StripeParamValue };
export type StripeParamValue = string | StripeParamValue[] | StripeParams;

export type StripeList = {
  object: "list";
  data: StripeObject[];
  has_more: boolean;
  url: string;
};

/** An error the stand-in answers with, in Stripe's `{ error: { type, code, message, param } }` shape. */
export class StripeApiError extends Error {
  override name = "StripeApiError";
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }

  toBody(): { error: Record<string, string> } {
    return {
      error: {
        type: this.type,
        message: this.message,
        ...(this.code === undefined ? {} : { code: this.code }),
        ...(this.param === undefined ? {} : { param: this.param }),
      },
    };
  }
}

/** Parses a query string or form body in Stripe's bracket notation into nested params. */
export function parseStripeParams(encoded: string): StripeParams {
  const root: StripeParams = {};
  for (const [rawKey, value] of new URLSearchParams(encoded)) {
    const head = rawKey.split("[", 1)[0]!;
    const rest = [...rawKey.slice(head.length).matchAll(/\[([^\]]*)\]/g)].map((match) => match[1]!);
    assign(root, [head, ...rest], value);
  }
  return normalizeArrays(root) as StripeParams;
}

function assign(node: StripeParams, path: string[], value: string): void {
  const [key, ...rest] = path as [string, ...string[]];
  if (rest.length === 0) {
    if (key === "") pushAppend(node, value);
    else node[key] = value;
    return;
  }
  if (key === "") {
    const child: StripeParams = {};
    pushAppend(node, child);
    assign(child, rest, value);
    return;
  }
  const existing = node[key];
  const child: StripeParams = typeof existing === "object" && !Array.isArray(existing) ? existing : {};
  node[key] = child;
  assign(child, rest, value);
}

// `a[]=x` appends: stored under the next free numeric key, turned into an array by normalizeArrays.
function pushAppend(node: StripeParams, value: StripeParamValue): void {
  let index = 0;
  while (String(index) in node) index++;
  node[String(index)] = value;
}

function normalizeArrays(value: StripeParamValue): StripeParamValue {
  if (typeof value === "string" || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const normalized = Object.fromEntries(keys.map((key) => [key, normalizeArrays(value[key]!)]));
  if (keys.length > 0 && keys.every((key) => /^\d+$/.test(key))) {
    return keys.sort((a, b) => Number(a) - Number(b)).map((key) => normalized[key]!);
  }
  return normalized;
}

export function stringParam(params: StripeParams, name: string): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string")
    throw new StripeApiError(
      400,
      "invalid_request_error",
      `Invalid string: ${name}`,
      "parameter_invalid_string",
      name,
    );
  return value;
}

export function listParam(params: StripeParams, name: string): string[] {
  const value = params[name];
  if (value === undefined) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === "string");
  throw new StripeApiError(
    400,
    "invalid_request_error",
    `Invalid array: ${name}`,
    "parameter_invalid_array",
    name,
  );
}

export function integerParam(params: StripeParams, name: string): number | undefined {
  const value = stringParam(params, name);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value))
    throw new StripeApiError(
      400,
      "invalid_request_error",
      `Invalid integer: ${value}`,
      "parameter_invalid_integer",
      name,
    );
  return Number(value);
}

export type TimeRange = { gt?: number; gte?: number; lt?: number; lte?: number };

/** `created=123` or `created[gte]=...&created[lt]=...`, as Stripe list filters accept. */
export function rangeParam(params: StripeParams, name: string): TimeRange | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value === "string") {
    const exact = integerParam(params, name)!;
    return { gte: exact, lte: exact };
  }
  if (Array.isArray(value))
    throw new StripeApiError(
      400,
      "invalid_request_error",
      `Invalid hash: ${name}`,
      "parameter_invalid_hash",
      name,
    );
  const range: TimeRange = {};
  for (const bound of ["gt", "gte", "lt", "lte"] as const) {
    const parsed = integerParam(value, bound);
    if (parsed !== undefined) range[bound] = parsed;
  }
  return range;
}

export function inRange(value: number | undefined, range: TimeRange | undefined): boolean {
  if (range === undefined) return true;
  if (value === undefined) return false;
  if (range.gt !== undefined && !(value > range.gt)) return false;
  if (range.gte !== undefined && !(value >= range.gte)) return false;
  if (range.lt !== undefined && !(value < range.lt)) return false;
  if (range.lte !== undefined && !(value <= range.lte)) return false;
  return true;
}

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;

/**
 * One page of a list the way Stripe pages it: `limit` (1..100, default 10), `starting_after` returns the
 * objects after that id, `ending_before` the ones right before it; `items` must already be in list order.
 */
export function pageOf(items: StripeObject[], params: StripeParams, url: string): StripeList {
  const limit = integerParam(params, "limit") ?? DEFAULT_LIMIT;
  if (limit < 1 || limit > MAX_LIMIT)
    throw new StripeApiError(
      400,
      "invalid_request_error",
      `Invalid limit: must be between 1 and ${MAX_LIMIT}.`,
      "parameter_invalid_integer",
      "limit",
    );
  const startingAfter = stringParam(params, "starting_after");
  const endingBefore = stringParam(params, "ending_before");
  if (startingAfter !== undefined && endingBefore !== undefined)
    throw new StripeApiError(
      400,
      "invalid_request_error",
      "You may only specify one of these parameters: ending_before, starting_after.",
    );
  const cursorIndex = (id: string, param: string): number => {
    const index = items.findIndex((item) => item.id === id);
    if (index === -1)
      throw new StripeApiError(
        400,
        "invalid_request_error",
        `No such object: '${id}'`,
        "resource_missing",
        param,
      );
    return index;
  };
  if (endingBefore !== undefined) {
    const end = cursorIndex(endingBefore, "ending_before");
    const start = Math.max(0, end - limit);
    return { object: "list", data: items.slice(start, end), has_more: start > 0, url };
  }
  const start = startingAfter === undefined ? 0 : cursorIndex(startingAfter, "starting_after") + 1;
  const data = items.slice(start, start + limit);
  return { object: "list", data, has_more: start + limit < items.length, url };
}

/** Stripe lists are newest first; equal `created` keeps the later-inserted object first. */
export function newestFirst<T extends { created?: number }>(items: readonly T[]): T[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => (b.item.created ?? 0) - (a.item.created ?? 0) || b.index - a.index)
    .map(({ item }) => item);
}
