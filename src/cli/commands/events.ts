import type { Command } from "commander";

export function registerEventsCommands(_program: Command): void {}
