// The OpenFeature web provider (@openfeature/web-sdk, static-context paradigm): the context is
// set in the engine when OpenFeature's context changes, and every resolution is a local
// evaluation against it. It imports nothing from the SDK: the SDK only calls the methods and
// the `events` emitter below, so the package keeps no runtime dependency.

import { createClient } from './client.js';

/** OpenFeature's provider event names (ProviderEvents of @openfeature/web-sdk). */
export const ProviderEvents = Object.freeze({
  Ready: 'PROVIDER_READY',
  Error: 'PROVIDER_ERROR',
  ConfigurationChanged: 'PROVIDER_CONFIGURATION_CHANGED',
  Stale: 'PROVIDER_STALE',
});

/** The emitter a provider exposes as `events` (the subset of OpenFeatureEventEmitter the SDK uses). */
class ProviderEmitter {
  constructor() {
    this._h = new Map();
  }
  addHandler(type, handler) {
    if (!this._h.has(type)) this._h.set(type, new Set());
    this._h.get(type).add(handler);
  }
  removeHandler(type, handler) {
    this._h.get(type)?.delete(handler);
  }
  removeAllHandlers(type) {
    if (type === undefined) this._h.clear();
    else this._h.delete(type);
  }
  getHandlers(type) {
    return [...(this._h.get(type) ?? [])];
  }
  emit(type, details = {}) {
    for (const h of this.getHandlers(type)) {
      try {
        h(details);
      } catch {
        // A handler's failure is the application's; the provider goes on.
      }
    }
  }
}

/**
 * A Vexil provider for @openfeature/web-sdk:
 *
 *   await OpenFeature.setProviderAndWait(new VexilProvider({ url, clientKey }), { targetingKey: 'user-42' });
 *   OpenFeature.getClient().getBooleanValue('new-checkout', false);
 *
 * Options are createClient's (context excluded: OpenFeature's context is used). Resolutions
 * carry the variation index as `variant`, the engine's reason, OpenFeature error codes, and
 * flagMetadata {ruleId?, inExperiment, version}.
 */
export class VexilProvider {
  /** @param {Omit<import('../index.d.ts').ClientOptions, 'context'>} options */
  constructor(options = {}) {
    this.metadata = { name: 'vexil' };
    this.runsOn = 'client';
    this.events = new ProviderEmitter();
    this._options = options;
    /** @type {import('./client.js').Client|null} the client, once initialized */
    this.client = null;
  }

  /** Creates the client with OpenFeature's context; resolves when it is ready or stale. */
  async initialize(context) {
    const c = await createClient({ ...this._options, context: context ?? {} });
    this.client = c;
    c.on('ready', () => this.events.emit(ProviderEvents.Ready, { message: c.statusReason }));
    c.on('stale', (e) => this.events.emit(ProviderEvents.Stale, { message: e.reason }));
    c.on('change', (e) => this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: e.keys, metadata: { version: e.version } }));
    c.on('error', (e) => {
      // Only a client without a snapshot is in error; other problems are worth a message, not a state.
      if (c.status === 'ERROR') this.events.emit(ProviderEvents.Error, { message: e.message });
    });
    if (c.status === 'ERROR' || c.status === 'NOT_READY') throw new Error('vexil: ' + c.statusReason);
    if (c.status === 'STALE') queueMicrotask(() => this.events.emit(ProviderEvents.Stale, { message: c.statusReason }));
  }

  /** Static context: set it in the engine once; resolutions then evaluate against it. */
  onContextChange(_old, context) {
    this.client?.setContext(context ?? {});
  }

  onClose() {
    this.client?.close();
  }

  resolveBooleanEvaluation(key, defaultValue) {
    return this._resolve(key, defaultValue, 'boolean');
  }

  resolveStringEvaluation(key, defaultValue) {
    return this._resolve(key, defaultValue, 'string');
  }

  resolveNumberEvaluation(key, defaultValue) {
    return this._resolve(key, defaultValue, 'number');
  }

  resolveObjectEvaluation(key, defaultValue) {
    return this._resolve(key, defaultValue, 'json');
  }

  _resolve(key, defaultValue, type) {
    if (!this.client) {
      return { value: defaultValue, reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY', errorMessage: 'vexil: the provider is not initialized' };
    }
    const d = this.client.detail(key, defaultValue, type);
    const r = { value: d.value, reason: d.reason, flagMetadata: { inExperiment: d.inExperiment, version: d.version } };
    if (d.variation >= 0) r.variant = String(d.variation);
    if (d.ruleId) r.flagMetadata.ruleId = d.ruleId;
    if (d.errorCode) {
      r.errorCode = d.errorCode;
      r.errorMessage = d.errorMessage;
    }
    return r;
  }
}
