import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Decimal } from "decimal.js";
import { DEMO_API_VERSION } from "./stripe-objects.js";
import {
  inRange,
  integerParam,
  listParam,
  newestFirst,
  pageOf,
  parseStripeParams,
  rangeParam,
  StripeApiError,
  type StripeList,
  type StripeObject,
  type StripeParams,
  stringParam,
} from "./stripe-params.js";

/**
 * A local Stripe: answers the Stripe API calls leakguard makes, in Stripe's current shapes and list
 * pagination, from an in-memory store, so the demo and tests run the real SDK without a Stripe account.
 */

export type StandInCollection =
  | "customers"
  | "products"
  | "prices"
  | "meters"
  | "subscriptions"
  | "invoices"
  | "events";

export type StandInData = Partial<Record<StandInCollection, StripeObject[]>>;

export type MeterEventRecord = {
  object: "billing.meter_event";
  created: number;
  event_name: string;
  identifier: string;
  livemode: false;
  payload: Record<string, string>;
  timestamp: number;
};

export type StandInRequest = { method: string; path: string; status: number };

export type StripeStandIn = {
  url: string;
  port: number;
  /** Inserts or replaces objects (by id) while running. */
  put: (collection: StandInCollection, objects: StripeObject[]) => void;
  get: (collection: StandInCollection, id: string) => StripeObject | undefined;
  meterEvents: () => MeterEventRecord[];
  requests: () => StandInRequest[];
  close: () => Promise<void>;
};

export type StandInOptions = {
  host?: string;
  port?: number;
  /** Unix seconds; the stand-in's clock for `created` and meter event time windows. */
  now?: () => number;
};

// Stripe accepts meter events up to 35 days old and 5 minutes ahead.
const METER_EVENT_MAX_AGE_SECONDS = 35 * 24 * 3600;
const METER_EVENT_MAX_AHEAD_SECONDS = 5 * 60;
const EMBEDDED_LINES = 10;

type Route = {
  method: "GET" | "POST";
  pattern: RegExp;
  handle: (match: string[], params: StripeParams, url: string) => unknown;
};

class Store {
  private readonly collections = new Map<StandInCollection, Map<string, StripeObject>>();

  put(collection: StandInCollection, objects: StripeObject[]): void {
    const byId = this.collections.get(collection) ?? new Map<string, StripeObject>();
    this.collections.set(collection, byId);
    for (const object of objects) {
      byId.delete(object.id);
      byId.set(object.id, structuredClone(object));
    }
  }

  all(collection: StandInCollection): StripeObject[] {
    return [...(this.collections.get(collection)?.values() ?? [])];
  }

  get(collection: StandInCollection, id: string): StripeObject | undefined {
    return this.collections.get(collection)?.get(id);
  }

  find(id: string): StripeObject | undefined {
    for (const byId of this.collections.values()) {
      const found = byId.get(id);
      if (found !== undefined) return found;
    }
    return undefined;
  }
}

const OBJECT_NAMES: Record<StandInCollection, string> = {
  customers: "customer",
  products: "product",
  prices: "price",
  meters: "billing.meter",
  subscriptions: "subscription",
  invoices: "invoice",
  events: "event",
};

function missing(collection: StandInCollection, id: string): StripeApiError {
  return new StripeApiError(
    404,
    "invalid_request_error",
    `No such ${OBJECT_NAMES[collection]}: '${id}'`,
    "resource_missing",
    "id",
  );
}

function missingParam(name: string): StripeApiError {
  return new StripeApiError(
    400,
    "invalid_request_error",
    `Missing required param: ${name}.`,
    "parameter_missing",
    name,
  );
}

function text(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && typeof (value as { id?: unknown }).id === "string")
    return (value as { id: string }).id;
  return undefined;
}

function subscriptionOfInvoice(invoice: StripeObject): string | undefined {
  const parent = invoice["parent"] as
    | { subscription_details?: { subscription?: unknown } }
    | null
    | undefined;
  return text(parent?.subscription_details?.subscription) ?? text(invoice["subscription"]);
}

function linesOf(invoice: StripeObject): StripeObject[] {
  return ((invoice["lines"] as { data?: StripeObject[] } | undefined)?.data ?? []) as StripeObject[];
}

const SUBSCRIPTION_STATUSES = new Set([
  "active",
  "past_due",
  "unpaid",
  "canceled",
  "incomplete",
  "incomplete_expired",
  "trialing",
  "paused",
  "all",
  "ended",
]);

function subscriptionStatusMatches(status: unknown, filter: string | undefined): boolean {
  // Without a status filter Stripe lists every subscription that has not been canceled.
  if (filter === undefined) return status !== "canceled" && status !== "incomplete_expired";
  if (filter === "all") return true;
  if (filter === "ended") return status === "canceled" || status === "incomplete_expired";
  return status === filter;
}

/** Applies `expand[]` paths (`customer`, `data.customer`, `tiers`, `data.tiers`) to a response. */
function expand(store: Store, value: unknown, paths: string[]): unknown {
  if (paths.length === 0) return value;
  const copy = structuredClone(value) as Record<string, unknown>;
  for (const path of paths) expandPath(store, copy, path.split("."));
  return copy;
}

function expandPath(store: Store, node: Record<string, unknown>, path: string[]): void {
  const [head, ...rest] = path as [string, ...string[]];
  if (head === "data" && Array.isArray(node["data"])) {
    for (const item of node["data"] as Record<string, unknown>[]) expandPath(store, item, rest);
    return;
  }
  const value = node[head];
  if (rest.length === 0) {
    if (typeof value === "string") {
      const found = store.find(value);
      if (found !== undefined) node[head] = structuredClone(found);
    }
    return;
  }
  if (typeof value === "object" && value !== null) expandPath(store, value as Record<string, unknown>, rest);
}

/** `tiers` is only in a price when asked for with `expand[]=tiers`, as on Stripe. */
function presentPrice(price: StripeObject, withTiers: boolean): StripeObject {
  if (withTiers) return { ...price, tiers: price["tiers"] ?? null };
  const { tiers: _tiers, ...rest } = price;
  return rest as StripeObject;
}

function presentInvoice(invoice: StripeObject): StripeObject {
  const lines = linesOf(invoice);
  return {
    ...invoice,
    lines: {
      object: "list",
      data: lines.slice(0, EMBEDDED_LINES),
      has_more: lines.length > EMBEDDED_LINES,
      total_count: lines.length,
      url: `/v1/invoices/${invoice.id}/lines`,
    },
  };
}

export async function startStripeStandIn(
  data: StandInData = {},
  options: StandInOptions = {},
): Promise<StripeStandIn> {
  const store = new Store();
  for (const [collection, objects] of Object.entries(data) as [StandInCollection, StripeObject[]][]) {
    store.put(collection, objects);
  }
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const meterEvents: MeterEventRecord[] = [];
  const meterEventsByIdentifier = new Map<string, MeterEventRecord>();
  const idempotent = new Map<string, { fingerprint: string; status: number; body: unknown }>();
  const requestLog: StandInRequest[] = [];

  const retrieve = (collection: StandInCollection, id: string): StripeObject => {
    const found = store.get(collection, id);
    if (found === undefined) throw missing(collection, id);
    return found;
  };

  const list = (
    collection: StandInCollection,
    params: StripeParams,
    url: string,
    keep: (object: StripeObject) => boolean,
  ): StripeList => {
    const created = rangeParam(params, "created");
    const items = newestFirst(store.all(collection)).filter(
      (object) => inRange(object.created, created) && keep(object),
    );
    return pageOf(items, params, url);
  };

  const routes: Route[] = [
    {
      method: "GET",
      pattern: /^\/v1\/customers$/,
      handle: (_m, params, url) => {
        const email = stringParam(params, "email");
        return list("customers", params, url, (c) => email === undefined || c["email"] === email);
      },
    },
    { method: "GET", pattern: /^\/v1\/customers\/([^/]+)$/, handle: ([, id]) => retrieve("customers", id!) },
    {
      method: "GET",
      pattern: /^\/v1\/products$/,
      handle: (_m, params, url) => list("products", params, url, () => true),
    },
    { method: "GET", pattern: /^\/v1\/products\/([^/]+)$/, handle: ([, id]) => retrieve("products", id!) },
    {
      method: "GET",
      pattern: /^\/v1\/prices$/,
      handle: (_m, params, url) => {
        const product = stringParam(params, "product");
        const active = stringParam(params, "active");
        const page = list(
          "prices",
          params,
          url,
          (p) =>
            (product === undefined || p["product"] === product) &&
            (active === undefined || String(p["active"]) === active),
        );
        const withTiers = listParam(params, "expand").includes("data.tiers");
        return { ...page, data: page.data.map((price) => presentPrice(price, withTiers)) };
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/prices\/([^/]+)$/,
      handle: ([, id], params) =>
        presentPrice(retrieve("prices", id!), listParam(params, "expand").includes("tiers")),
    },
    {
      method: "GET",
      pattern: /^\/v1\/billing\/meters$/,
      handle: (_m, params, url) => {
        const status = stringParam(params, "status");
        return list("meters", params, url, (m) => status === undefined || m["status"] === status);
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/billing\/meters\/([^/]+)$/,
      handle: ([, id]) => retrieve("meters", id!),
    },
    {
      method: "GET",
      pattern: /^\/v1\/billing\/meters\/([^/]+)\/event_summaries$/,
      handle: ([, id], params, url) => meterEventSummaries(retrieve("meters", id!), params, url),
    },
    {
      method: "POST",
      pattern: /^\/v1\/billing\/meter_events$/,
      handle: (_m, params) => createMeterEvent(params),
    },
    {
      method: "GET",
      pattern: /^\/v1\/subscriptions$/,
      handle: (_m, params, url) => {
        const status = stringParam(params, "status");
        if (status !== undefined && !SUBSCRIPTION_STATUSES.has(status))
          throw new StripeApiError(
            400,
            "invalid_request_error",
            `Invalid status: ${status}`,
            "parameter_invalid",
            "status",
          );
        const customer = stringParam(params, "customer");
        const price = stringParam(params, "price");
        return list(
          "subscriptions",
          params,
          url,
          (s) =>
            subscriptionStatusMatches(s["status"], status) &&
            (customer === undefined || text(s["customer"]) === customer) &&
            (price === undefined || itemsOf(s).some((item) => text(item["price"]) === price)),
        );
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/subscriptions\/([^/]+)$/,
      handle: ([, id]) => retrieve("subscriptions", id!),
    },
    {
      method: "GET",
      pattern: /^\/v1\/subscription_items$/,
      handle: (_m, params, url) => {
        const subscription = stringParam(params, "subscription");
        if (subscription === undefined) throw missingParam("subscription");
        return pageOf(itemsOf(retrieve("subscriptions", subscription)), params, url);
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/invoices$/,
      handle: (_m, params, url) => {
        const customer = stringParam(params, "customer");
        const subscription = stringParam(params, "subscription");
        const status = stringParam(params, "status");
        const page = list(
          "invoices",
          params,
          url,
          (i) =>
            (customer === undefined || text(i["customer"]) === customer) &&
            (subscription === undefined || subscriptionOfInvoice(i) === subscription) &&
            (status === undefined || i["status"] === status),
        );
        return { ...page, data: page.data.map(presentInvoice) };
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/invoices\/([^/]+)$/,
      handle: ([, id]) => presentInvoice(retrieve("invoices", id!)),
    },
    {
      method: "GET",
      pattern: /^\/v1\/invoices\/([^/]+)\/lines$/,
      handle: ([, id], params, url) => pageOf(linesOf(retrieve("invoices", id!)), params, url),
    },
    {
      method: "GET",
      pattern: /^\/v1\/events$/,
      handle: (_m, params, url) => {
        const type = stringParam(params, "type");
        const types = listParam(params, "types");
        const matches = (eventType: unknown): boolean => {
          if (typeof eventType !== "string") return false;
          if (types.length > 0) return types.includes(eventType);
          if (type === undefined) return true;
          // Stripe allows one `*` wildcard, e.g. `invoice.*`.
          return type.includes("*")
            ? new RegExp(`^${type.split("*").map(escapeRegExp).join(".*")}$`).test(eventType)
            : eventType === type;
        };
        return list("events", params, url, (e) => matches(e["type"]));
      },
    },
    { method: "GET", pattern: /^\/v1\/events\/([^/]+)$/, handle: ([, id]) => retrieve("events", id!) },
  ];

  function itemsOf(subscription: StripeObject): StripeObject[] {
    return ((subscription["items"] as { data?: StripeObject[] } | undefined)?.data ?? []) as StripeObject[];
  }

  function createMeterEvent(params: StripeParams): MeterEventRecord {
    const eventName = stringParam(params, "event_name");
    if (eventName === undefined) throw missingParam("event_name");
    const payload = params["payload"];
    if (typeof payload !== "object" || Array.isArray(payload)) throw missingParam("payload");
    const meter = store.all("meters").find((m) => m["event_name"] === eventName);
    const customerKey = meterKey(meter, "customer_mapping", "stripe_customer_id");
    const valueKey = meterKey(meter, "value_settings", "value");
    const customer = payload[customerKey];
    const value = payload[valueKey];
    if (typeof customer !== "string") throw missingParam(`payload[${customerKey}]`);
    if (typeof value !== "string" || !/^-?\d+(\.\d+)?$/.test(value))
      throw new StripeApiError(
        400,
        "invalid_request_error",
        `Invalid payload[${valueKey}]: must be a number.`,
        "parameter_invalid",
        `payload[${valueKey}]`,
      );
    const timestamp = integerParam(params, "timestamp") ?? now();
    if (timestamp < now() - METER_EVENT_MAX_AGE_SECONDS || timestamp > now() + METER_EVENT_MAX_AHEAD_SECONDS)
      throw new StripeApiError(
        400,
        "invalid_request_error",
        "Timestamp must be within the past 35 calendar days or up to 5 minutes in the future.",
        "parameter_invalid",
        "timestamp",
      );
    const identifier = stringParam(params, "identifier") ?? `mev_${randomBytes(12).toString("hex")}`;
    if (meterEventsByIdentifier.has(identifier))
      throw new StripeApiError(
        400,
        "invalid_request_error",
        `An event already exists with identifier ${identifier}.`,
        "meter_event_duplicate_identifier",
        "identifier",
      );
    const record: MeterEventRecord = {
      object: "billing.meter_event",
      created: now(),
      event_name: eventName,
      identifier,
      livemode: false,
      payload: Object.fromEntries(
        Object.entries(payload).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
      ),
      timestamp,
    };
    meterEvents.push(record);
    meterEventsByIdentifier.set(identifier, record);
    return record;
  }

  function meterEventSummaries(meter: StripeObject, params: StripeParams, url: string): StripeList {
    const customer = stringParam(params, "customer");
    const startTime = integerParam(params, "start_time");
    const endTime = integerParam(params, "end_time");
    for (const [name, value] of [
      ["customer", customer],
      ["start_time", startTime],
      ["end_time", endTime],
    ] as const) {
      if (value === undefined) throw missingParam(name);
    }
    const customerKey = meterKey(meter, "customer_mapping", "stripe_customer_id");
    const valueKey = meterKey(meter, "value_settings", "value");
    const total = meterEvents
      .filter(
        (event) =>
          event.event_name === meter["event_name"] &&
          event.payload[customerKey] === customer &&
          event.timestamp >= startTime! &&
          event.timestamp < endTime!,
      )
      .reduce((sum, event) => sum.plus(event.payload[valueKey] ?? "0"), new Decimal(0));
    const summary: StripeObject = {
      id: `mtrusg_${createHash("sha256").update(`${meter.id}:${customer}:${startTime}:${endTime}`).digest("hex").slice(0, 24)}`,
      object: "billing.meter_event_summary",
      aggregated_value: total.toNumber(),
      end_time: endTime,
      livemode: false,
      meter: meter.id,
      start_time: startTime,
    };
    return pageOf([summary], params, url);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestUrl = new URL(request.url ?? "/", "http://stand-in");
    const method = request.method ?? "GET";
    const body = method === "POST" ? await readBody(request) : "";
    const reply = (status: number, payload: unknown): void => {
      requestLog.push({ method, path: requestUrl.pathname, status });
      response.writeHead(status, {
        "content-type": "application/json",
        "request-id": `req_${randomBytes(7).toString("hex")}`,
        "stripe-version": DEMO_API_VERSION,
        ...(status >= 400 && status < 500 ? { "stripe-should-retry": "false" } : {}),
      });
      response.end(JSON.stringify(payload));
    };
    try {
      const authorization = request.headers.authorization ?? "";
      if (!/^Bearer (sk|rk)_\S+$/.test(authorization))
        throw new StripeApiError(401, "invalid_request_error", "You did not provide a valid API key.");
      const idempotencyKey = method === "POST" ? headerValue(request.headers["idempotency-key"]) : undefined;
      const fingerprint = `${requestUrl.pathname}\n${body}`;
      if (idempotencyKey !== undefined) {
        const previous = idempotent.get(idempotencyKey);
        if (previous !== undefined) {
          if (previous.fingerprint !== fingerprint)
            throw new StripeApiError(
              400,
              "idempotency_error",
              `Keys for idempotent requests can only be used with the same parameters they were first used with.`,
            );
          return reply(previous.status, previous.body);
        }
      }
      const route = routes.find(
        (candidate) => candidate.method === method && candidate.pattern.test(requestUrl.pathname),
      );
      if (route === undefined)
        throw new StripeApiError(
          404,
          "invalid_request_error",
          `Unrecognized request URL (${method}: ${requestUrl.pathname}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
        );
      const match = requestUrl.pathname.match(route.pattern)!.map((part) => decodeURIComponent(part));
      const params = parseStripeParams(method === "POST" ? body : requestUrl.search.slice(1));
      const url = requestUrl.pathname;
      const result = route.handle(match, params, url);
      const expandPaths = listParam(params, "expand").filter(
        (path) => path !== "tiers" && path !== "data.tiers",
      );
      const payload = expand(store, result, expandPaths);
      if (idempotencyKey !== undefined)
        idempotent.set(idempotencyKey, { fingerprint, status: 200, body: payload });
      reply(200, payload);
    } catch (error) {
      if (error instanceof StripeApiError) return reply(error.status, error.toBody());
      reply(500, { error: { type: "api_error", message: (error as Error).message } });
    }
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.destroy(error as Error);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = options.host ?? "127.0.0.1";
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    put: (collection, objects) => store.put(collection, objects),
    get: (collection, id) => {
      const found = store.get(collection, id);
      return found === undefined ? undefined : structuredClone(found);
    },
    meterEvents: () => meterEvents.map((event) => structuredClone(event)),
    requests: () => [...requestLog],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function meterKey(meter: StripeObject | undefined, setting: string, fallback: string): string {
  const key = (meter?.[setting] as { event_payload_key?: unknown } | undefined)?.event_payload_key;
  return typeof key === "string" ? key : fallback;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
