// Types of @vexil/client (the ES modules in src/ carry the same documentation as JSDoc).

/** A JSON value as flags serve it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * An evaluation context in OpenFeature's flat shape. Attribute values: strings, numbers,
 * booleans, Dates (epoch milliseconds) or arrays of strings; undefined values are left out.
 */
export interface EvaluationContext {
  targetingKey?: string;
  [attribute: string]: string | number | boolean | Date | readonly string[] | undefined;
}

/** A snapshot (core/SNAPSHOT.md): an object, its JSON text, or its UTF-8 bytes. */
export type Snapshot = string | Uint8Array | { environment: string; version: number; [field: string]: unknown };

/** Where the last good snapshot is kept: any object with these two methods. */
export interface SnapshotStore {
  get(key: string): Promise<string | null> | string | null;
  set(key: string, value: string): Promise<void> | void;
}

export interface ClientOptions {
  /** The Vexil daemon's base URL (http or https). Give url and clientKey, or a bootstrap, or both. */
  url?: string;
  /** The environment's client key (vx_client_…); server keys are refused. */
  clientKey?: string;
  /** The initial context (see setContext). */
  context?: EvaluationContext;
  /** A snapshot to start from (server-rendered pages); without url it is the only source. */
  bootstrap?: Snapshot;
  /**
   * Where the last good snapshot is kept: a store, 'indexedDB', 'localStorage', a directory
   * (Node: one file per client key), or false for none. Default: IndexedDB in browsers, none in Node.
   */
  storage?: SnapshotStore | 'indexedDB' | 'localStorage' | string | false | null;
  /** How long createClient waits for the daemon, in ms (default 5000). */
  timeout?: number;
  /** Reconnect delays in ms: min doubling to max, with ±25 % jitter (default 1000 → 30000). */
  backoff?: { min?: number; max?: number };
  /** Use EventSource for the stream (default: when the platform has it), else a fetch-based reader. */
  eventSource?: boolean;
  /**
   * The engine module: a WebAssembly.Module, its bytes, a Response, a URL or a path.
   * Default: vexil.wasm shipped beside src/ (streaming compilation in browsers).
   */
  wasm?: WebAssembly.Module | BufferSource | Response | Promise<Response> | URL | string;
}

export type Reason = 'STATIC' | 'TARGETING_MATCH' | 'SPLIT' | 'DISABLED' | 'DEFAULT' | 'PREREQUISITE_FAILED' | 'ERROR';

export type ErrorCode = 'FLAG_NOT_FOUND' | 'PARSE_ERROR' | 'TYPE_MISMATCH' | 'INVALID_CONTEXT' | 'PROVIDER_NOT_READY' | 'GENERAL';

export type FlagType = 'boolean' | 'string' | 'number' | 'integer' | 'json' | 'any';

/** A full evaluation result. */
export interface Detail<T = JsonValue> {
  key: string;
  /** The served value, or the caller's default (variation -1). Objects are frozen (shared). */
  value: T;
  /** Index of the served variation; -1 for the caller's default. */
  variation: number;
  reason: Reason;
  /** The id of the rule that decided, when one did and has an id. */
  ruleId?: string;
  /** Why the caller's default was served. */
  errorCode?: ErrorCode;
  errorMessage?: string;
  /** This evaluation is an experiment exposure. */
  inExperiment: boolean;
  /** The snapshot version that answered (-1: none). */
  version: number;
  /** The value as compact JSON, the same text on every host. */
  valueJSON: string;
}

export type Status = 'NOT_READY' | 'READY' | 'STALE' | 'ERROR' | 'CLOSED';

export interface ChangeEvent {
  /** Flags added, removed, edited, or whose result for the current context changed. */
  keys: string[];
  version: number;
  previousVersion: number;
}

export interface ClientEvents {
  ready: { version: number };
  change: ChangeEvent;
  stale: { version: number; reason: string };
  error: Error;
}

export interface SetContextOptions {
  /** Pin the evaluation time (default: the clock, refreshed every second). */
  now?: number | Date;
  /** Pin the uint32 that percentage-of-time gates compare (default: drawn per setContext). */
  random?: number;
}

export declare class Client {
  private constructor();
  bool(key: string, defaultValue: boolean): boolean;
  string(key: string, defaultValue: string): string;
  number(key: string, defaultValue: number): number;
  json<T = JsonValue>(key: string, defaultValue: T): T | JsonValue;
  detail<T = JsonValue>(key: string, defaultValue?: T, type?: FlagType): Detail<T | JsonValue>;
  /**
   * Every flag's value by key (null where the caller's default would be served). Frozen; the
   * same object again while no flag's result changes.
   */
  all(): Readonly<Record<string, JsonValue>>;
  /** Every flag's detail by key. */
  allDetails(): Record<string, Detail>;
  setContext(context: EvaluationContext, options?: SetContextOptions): void;
  readonly context: EvaluationContext;
  on<E extends keyof ClientEvents>(type: E, listener: (event: ClientEvents[E]) => void): () => void;
  off<E extends keyof ClientEvents>(type: E, listener: (event: ClientEvents[E]) => void): void;
  readonly status: Status;
  readonly statusReason: string;
  readonly version: number;
  /** Validation problems ("path: message") of the snapshot served; those flags answer PARSE_ERROR. */
  readonly problems: string[];
  readonly keys: string[];
  close(): void;
}

export declare function createClient(options?: ClientOptions): Promise<Client>;

export declare function localStorageStore(): SnapshotStore;
export declare function indexedDBStore(dbName?: string): SnapshotStore;
export declare function fileStore(dir: string): SnapshotStore;

export declare class ContextError extends Error {
  field: string;
}
export declare class EngineError extends Error {
  op: string;
}

/** The OpenFeature web provider (import from '@vexil/client/openfeature'). */
export declare class VexilProvider {
  constructor(options?: Omit<ClientOptions, 'context'>);
  readonly metadata: { name: 'vexil' };
  readonly runsOn: 'client';
  /** The client, once initialized. */
  client: Client | null;
  events: {
    addHandler(type: string, handler: (details?: unknown) => void): void;
    removeHandler(type: string, handler: (details?: unknown) => void): void;
    removeAllHandlers(type?: string): void;
  };
  initialize(context?: EvaluationContext): Promise<void>;
  onContextChange(oldContext: EvaluationContext, newContext: EvaluationContext): void;
  onClose(): void;
  resolveBooleanEvaluation(key: string, defaultValue: boolean): ResolutionDetails<boolean>;
  resolveStringEvaluation(key: string, defaultValue: string): ResolutionDetails<string>;
  resolveNumberEvaluation(key: string, defaultValue: number): ResolutionDetails<number>;
  resolveObjectEvaluation<T extends JsonValue>(key: string, defaultValue: T): ResolutionDetails<T>;
}

export interface ResolutionDetails<T> {
  value: T;
  variant?: string;
  reason: Reason;
  errorCode?: ErrorCode;
  errorMessage?: string;
  flagMetadata: { ruleId?: string; inExperiment: boolean; version: number };
}

export declare const ProviderEvents: {
  readonly Ready: 'PROVIDER_READY';
  readonly Error: 'PROVIDER_ERROR';
  readonly ConfigurationChanged: 'PROVIDER_CONFIGURATION_CHANGED';
  readonly Stale: 'PROVIDER_STALE';
};
