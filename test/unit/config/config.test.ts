import { describe, expect, it } from "vitest";
import { loadConfig, loadConnectionConfig } from "../../../src/config/config.js";

describe("loadConfig", () => {
  it("gives every variable its documented default", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      redisUrl: "redis://127.0.0.1:6379",
      stripeWebhookSecrets: ["whsec_leakguard_local"],
      stripeWebhookToleranceSeconds: 300,
      queuePrefix: "leakguard",
      customerIdMetadataKey: "user_id",
      revokeOnRefund: "full",
      revokeOnDispute: "opened",
      port: 8080,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("splits comma-separated webhook secrets and API keys", () => {
    const config = loadConfig({ STRIPE_WEBHOOK_SECRET: "whsec_a, whsec_b", LEAKGUARD_API_KEYS: "k1,,k2" });
    expect(config.stripeWebhookSecrets).toEqual(["whsec_a", "whsec_b"]);
    expect(config.apiKeys).toEqual(["k1", "k2"]);
  });

  it.each([
    [{ PORT: "eighty" }, "PORT"],
    [{ DATABASE_URL: "not a url" }, "DATABASE_URL"],
    [{ STRIPE_API_BASE: "localhost:12111" }, "STRIPE_API_BASE"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ LEAKGUARD_REVOKE_ON_DISPUTE: "sometimes" }, "LEAKGUARD_REVOKE_ON_DISPUTE"],
    [{ LEAKGUARD_API_KEYS: " , " }, "LEAKGUARD_API_KEYS"],
    [{ LEAKGUARD_OUTBOUND_URL: "http://127.0.0.1:9/hooks" }, "LEAKGUARD_OUTBOUND_SECRET"],
  ])("names the bad variable in %o", (env, name) => {
    expect(() => loadConfig(env)).toThrow(name);
  });

  it("reads only the connections for commands that need no secrets", () => {
    expect(
      loadConnectionConfig({ DATABASE_URL: "postgresql://x@db:5432/lg", STRIPE_SECRET_KEY: "" }),
    ).toEqual({
      databaseUrl: "postgresql://x@db:5432/lg",
      redisUrl: "redis://127.0.0.1:6379",
    });
    expect(() => loadConnectionConfig({ REDIS_URL: "http://127.0.0.1:6379" })).toThrow("REDIS_URL");
  });

  it("treats an empty value as unset", () => {
    expect(loadConfig({ STRIPE_API_BASE: "" }).stripeApiBase).toBeUndefined();
  });
});
