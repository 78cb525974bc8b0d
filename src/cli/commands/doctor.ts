import type { Command } from "commander";
import { runDoctor } from "../../doctor/run-doctor.js";
import { runOneShot } from "../runtime.js";

export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description(
      "check the database, migrations, Redis, the catalog and the Stripe API version of recent events",
    )
    .action(() =>
      runOneShot(async (ctx) => {
        const checks = await runDoctor(ctx);
        for (const check of checks) {
          const mark = !check.ok ? "FAIL" : check.warning ? "WARN" : "ok";
          process.stdout.write(`${mark.padEnd(4)} ${check.name}: ${check.message}\n`);
        }
        const failed = checks.filter((check) => !check.ok);
        if (failed.length > 0)
          throw new Error(`${failed.length} check(s) failed: ${failed.map((c) => c.name).join(", ")}`);
      }),
    );
}
