import { describe, expect, it } from "vitest";
import { loadConfig, loadConnectionConfig } from "../../../src/config/config.js";
import { TEST_SECRETS } from "../../support/env.js";

const withSecrets = (env: Record<string, string> = {}) => loadConfig({ ...TEST_SECRETS, ...env });

describe("loadConfig", () => {
  it("gives every variable but the secrets its documented default", () => {
    const config = withSecrets();
    expect(config).toMatchObject({
      redisUrl: "redis://127.0.0.1:6379",
      stripeWebhookToleranceSeconds: 300,
      queuePrefix: "leakguard",
      customerIdMetadataKey: "user_id",
      reconcileCron: "0 3 * * *",
      revokeOnRefund: "full",
      revokeOnDispute: "opened",
      port: 8080,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each(["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "LEAKGUARD_API_KEYS"])(
    "refuses to start without %s, naming it (no public default stands in for a secret)",
    (name) => {
      const env: Record<string, string> = { ...TEST_SECRETS };
      delete env[name];
      expect(() => loadConfig(env)).toThrow(`invalid configuration: ${name}: is required`);
      expect(() => loadConfig({ ...env, [name]: "" })).toThrow(`${name}: is required`);
      if (name !== "STRIPE_SECRET_KEY")
        expect(() => loadConfig({ ...env, [name]: " , " })).toThrow(`${name}: is required`);
    },
  );

  it("splits comma-separated webhook secrets and API keys", () => {
    const config = withSecrets({
      STRIPE_WEBHOOK_SECRET: "whsec_a, whsec_b",
      LEAKGUARD_API_KEYS: "key_one_0123456789,,key_two_0123456789",
    });
    expect(config.stripeWebhookSecrets).toEqual(["whsec_a", "whsec_b"]);
    expect(config.apiKeys).toEqual(["key_one_0123456789", "key_two_0123456789"]);
  });

  it.each([
    [{ PORT: "eighty" }, "PORT"],
    [{ DATABASE_URL: "not a url" }, "DATABASE_URL"],
    [{ STRIPE_API_BASE: "localhost:12111" }, "STRIPE_API_BASE"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ LEAKGUARD_REVOKE_ON_DISPUTE: "sometimes" }, "LEAKGUARD_REVOKE_ON_DISPUTE"],
    [{ LEAKGUARD_OUTBOUND_URL: "http://127.0.0.1:9/hooks" }, "LEAKGUARD_OUTBOUND_SECRET"],
    [{ STRIPE_SECRET_KEY: "foo" }, "STRIPE_SECRET_KEY"],
    [{ STRIPE_WEBHOOK_SECRET: "abc" }, "STRIPE_WEBHOOK_SECRET"],
    [{ STRIPE_WEBHOOK_SECRET: "whsec_ok,abc" }, "STRIPE_WEBHOOK_SECRET"],
    [{ LEAKGUARD_API_KEYS: "short" }, "LEAKGUARD_API_KEYS"],
    [{ LEAKGUARD_RECONCILE_CRON: "every day" }, "LEAKGUARD_RECONCILE_CRON"],
    [{ LEAKGUARD_RECONCILE_CRON: "0 3 * *" }, "LEAKGUARD_RECONCILE_CRON"],
  ])("names the bad variable in %o", (env, name) => {
    expect(() => withSecrets(env)).toThrow(name);
  });

  it("accepts 5- and 6-field cron expressions", () => {
    expect(withSecrets({ LEAKGUARD_RECONCILE_CRON: "30 2 * * 1-5" }).reconcileCron).toBe("30 2 * * 1-5");
    expect(withSecrets({ LEAKGUARD_RECONCILE_CRON: "0 0 3 * * *" }).reconcileCron).toBe("0 0 3 * * *");
  });

  it("reads only the connections for commands that need no secrets", () => {
    expect(loadConnectionConfig({ DATABASE_URL: "postgresql://x@db:5432/lg" })).toEqual({
      databaseUrl: "postgresql://x@db:5432/lg",
      redisUrl: "redis://127.0.0.1:6379",
    });
    expect(() => loadConnectionConfig({ REDIS_URL: "http://127.0.0.1:6379" })).toThrow("REDIS_URL");
  });

  it("treats an empty value as unset", () => {
    expect(withSecrets({ STRIPE_API_BASE: "" }).stripeApiBase).toBeUndefined();
  });
});
