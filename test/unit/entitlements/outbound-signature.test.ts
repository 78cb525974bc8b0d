import { describe, expect, it } from "vitest";
import { signOutboundPayload, verifyOutboundSignature } from "../../../src/entitlements/outbound-webhooks.js";

const SECRET = "whsec_outbound_test";

describe("outbound webhook signatures", () => {
  it("signs like Stripe: HMAC-SHA256 of '<t>.<body>', hex", () => {
    // Expected value from `printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret`.
    expect(signOutboundPayload('{"a":1}', "secret", 1700000000)).toBe(
      "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686",
    );
  });

  it("verifies its own signature and rejects a wrong secret, a changed body and an old timestamp", () => {
    const now = Math.floor(Date.now() / 1000);
    const header = signOutboundPayload('{"a":1}', SECRET, now);
    expect(verifyOutboundSignature('{"a":1}', header, SECRET)).toBe(true);
    expect(verifyOutboundSignature('{"a":1}', header, "whsec_other")).toBe(false);
    expect(verifyOutboundSignature('{"a":2}', header, SECRET)).toBe(false);
    expect(
      verifyOutboundSignature('{"a":1}', signOutboundPayload('{"a":1}', SECRET, now - 600), SECRET),
    ).toBe(false);
    expect(verifyOutboundSignature('{"a":1}', "garbage", SECRET)).toBe(false);
  });
});
