#!/usr/bin/env node
// Thin shim: the CLI is TypeScript, run through tsx so there is no separate build step.
require('tsx/cjs');
require('../cli/main.ts');
