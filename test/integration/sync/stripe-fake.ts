import nock from "nock";
import type { Json } from "../../support/builders.js";
import { anInvoicePaymentList } from "./payment-builders.js";
import { STRIPE_API_BASE } from "./sync-harness.js";

/** Requests the fake answered, as `METHOD path`, so tests can tell whether Stripe was asked at all. */
export const stripeCalls: string[] = [];

function answer(path: string, body: () => Json): void {
  nock(STRIPE_API_BASE)
    .persist()
    .get(path)
    .query(true)
    .reply(200, () => {
      stripeCalls.push(`GET ${path}`);
      return body();
    });
}

/** Serves `GET /v1/<collection>/<id>` with whatever `current()` returns at request time. */
function serveObject(collection: string, object: Json | (() => Json)): void {
  const current = typeof object === "function" ? object : () => object;
  answer(`/v1/${collection}/${String(current()["id"])}`, current);
}

export const serveCharge = (charge: Json) => serveObject("charges", charge);
export const serveSubscription = (subscription: Json | (() => Json)) =>
  serveObject("subscriptions", subscription);
export const serveInvoice = (invoice: Json | (() => Json)) => serveObject("invoices", invoice);

/** Serves the invoice payments of one payment intent (an empty list when `invoice` is null). */
export function serveInvoicePaymentsOf(paymentIntent: string, invoice: string | null): void {
  nock(STRIPE_API_BASE)
    .persist()
    .get("/v1/invoice_payments")
    .query((query) => JSON.stringify(query).includes(paymentIntent))
    .reply(200, () => {
      stripeCalls.push(`GET /v1/invoice_payments ${paymentIntent}`);
      return anInvoicePaymentList(paymentIntent, invoice);
    });
}

/** Stripe answers every request with a 500 (an outage); the SDK's retries get the same. */
export function failStripe(path: string): void {
  nock(STRIPE_API_BASE)
    .persist()
    .get(path)
    .query(true)
    .reply(500, () => {
      stripeCalls.push(`GET ${path} (500)`);
      return { error: { type: "api_error", message: "Stripe is down" } };
    });
}

/**
 * Serves `GET /v1/subscriptions/:id` and `GET /v1/invoices/:id` from `objects` (looked up at request time), so
 * many tests' objects share two interceptors; an unknown id is Stripe's 404.
 */
export function serveObjectsFrom(objects: ReadonlyMap<string, Json>): void {
  for (const collection of ["subscriptions", "invoices"]) {
    nock(STRIPE_API_BASE)
      .persist()
      .get(new RegExp(`^/v1/${collection}/[^/?]+(\\?.*)?$`))
      .reply((uri) => {
        const id = decodeURIComponent(new URL(uri, STRIPE_API_BASE).pathname.split("/")[3] ?? "");
        stripeCalls.push(`GET /v1/${collection}/${id}`);
        const object = objects.get(id);
        return object === undefined
          ? [
              404,
              {
                error: {
                  type: "invalid_request_error",
                  code: "resource_missing",
                  message: `No such ${collection}: '${id}'`,
                },
              },
            ]
          : [200, object];
      });
  }
}
