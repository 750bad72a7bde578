#!/usr/bin/env node
// The `sesame` command: runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/sesame.ts');
