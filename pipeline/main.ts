#!/usr/bin/env node
// Entry point for running the CLI from sources: `npx tsx pipeline/main.ts prepare ...`.
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
