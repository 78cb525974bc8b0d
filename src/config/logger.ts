import { pino } from "pino";

export type Logger = pino.Logger;

/** The one root logger. Secrets are redacted wherever they appear in a logged object. */
export function createLogger(level: string, options: { stream?: "stdout" | "stderr" } = {}): Logger {
  return pino(
    {
      level,
      redact: {
        paths: [
          "stripeSecretKey",
          "stripeWebhookSecrets",
          "apiKeys",
          "outboundSecret",
          "*.outboundSecret",
          "databaseUrl",
          "redisUrl",
          "*.stripeSecretKey",
          "*.stripeWebhookSecrets",
          "*.apiKeys",
          "req.headers.authorization",
          'req.headers["stripe-signature"]',
          "headers.authorization",
          'headers["stripe-signature"]',
        ],
        censor: "[redacted]",
      },
    },
    pino.destination(options.stream === "stderr" ? 2 : 1),
  );
}
