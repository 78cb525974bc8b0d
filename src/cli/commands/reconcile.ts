import type { Command } from "commander";

export function registerReconcileCommand(_program: Command): void {}
