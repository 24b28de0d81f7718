/** `node --import <this file>`: logs the URL of every ES module the process loads (module_log_hooks.ts). */
import { register } from 'node:module';

register('./module_log_hooks.js', import.meta.url);
