import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDoctor } from "../../../src/doctor/run-doctor.js";
import { STRIPE_API_VERSION } from "../../../src/stripe/client.js";
import { createTestApp, type TestApp } from "../../support/app.js";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const byName = (checks: Awaited<ReturnType<typeof runDoctor>>, name: string) =>
  checks.find((c) => c.name === name)!;

describe("leakguard doctor", () => {
  it("reports a migrated database, a noeviction Redis and no recent webhooks", async () => {
    const checks = await runDoctor(t.ctx);
    expect(byName(checks, "database").ok).toBe(true);
    expect(byName(checks, "redis").ok).toBe(true);
    expect(byName(checks, "api version")).toMatchObject({ ok: true });
    expect(byName(checks, "api version").warning).toBeUndefined();
  });

  it("warns when recent webhooks arrive in another API version than the SDK pins", async () => {
    await t.db.stripeEvent.create({
      data: {
        id: "evt_doctor_old",
        type: "customer.updated",
        apiVersion: "2024-06-20",
        stripeCreated: new Date(),
        payload: {},
      },
    });
    const check = byName(await runDoctor(t.ctx), "api version");
    expect(check.warning).toBe(true);
    expect(check.message).toContain("2024-06-20 (1)");
    expect(check.message).toContain(STRIPE_API_VERSION);
  });
});
