import type { Command } from "commander";

export function registerReportCommand(_program: Command): void {}
