// @vexil/client: Vexil feature flags evaluated locally, offline and live, in browsers and Node.
export { createClient, Client } from './client.js';
export { localStorageStore, indexedDBStore, fileStore } from './storage.js';
export { ContextError } from './context.js';
export { EngineError } from './engine.js';
