import type { Command } from "commander";
import { loadCatalog } from "../../entitlements/catalog.js";
import { describeCatalog } from "../../entitlements/describe-catalog.js";
import { fail } from "../runtime.js";

export function registerCatalogCommand(program: Command): void {
  const catalog = program
    .command("catalog")
    .description("the catalog: what each Stripe price or product grants");
  catalog
    .command("check")
    .argument("<file>", "catalog JSON file")
    .description("validate a catalog file and print what each plan grants")
    .action((file: string) => {
      try {
        const catalog = loadCatalog(file);
        const warnings = catalog.warnings.map((warning) => `warning: ${warning}`);
        const lines = [`${file}: valid`, ...warnings, ...describeCatalog(catalog)];
        process.stdout.write(`${lines.join("\n")}\n`);
      } catch (error) {
        fail((error as Error).message);
      }
    });
}
