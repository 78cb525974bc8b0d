export { normalizeCustomer } from "./customer.js";
export { readEventObject } from "./event.js";
export { normalizeInvoice, normalizeInvoiceLine } from "./invoice.js";
export {
  normalizeCharge,
  normalizeCheckoutSession,
  normalizeDispute,
  normalizeRefund,
  readInvoiceOfInvoicePayment,
} from "./payment.js";
export { normalizePrice } from "./price.js";
export { normalizeSubscription, normalizeSubscriptionItem } from "./subscription.js";
export type * from "./types.js";
