#!/usr/bin/env node
// Runs the TypeScript CLI in this process through tsx, so `npx leakguard ...` works straight from a checkout
// and signals (Ctrl-C, SIGTERM from a supervisor) reach the command itself.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
