// Where the client keeps the last good snapshot, to start from it when the daemon cannot be
// reached. A store is any object with async get(key) → string|null and set(key, text).

/**
 * @typedef {{ get(key: string): Promise<string|null>|string|null, set(key: string, value: string): Promise<void>|void }} SnapshotStore
 */

/**
 * window.localStorage (synchronous, about 5 MB per origin; a snapshot too large for it is not
 * stored and the failure is reported as an 'error' event).
 * @returns {SnapshotStore}
 */
export function localStorageStore() {
  const ls = globalThis.localStorage;
  if (!ls) throw new Error('vexil: storage: localStorage is not available here');
  return {
    get: (key) => ls.getItem(key),
    set: (key, value) => ls.setItem(key, value),
  };
}

/**
 * IndexedDB (database "vexil", object store "snapshots"): larger quotas than localStorage.
 * @returns {SnapshotStore}
 */
export function indexedDBStore(dbName = 'vexil') {
  const idb = globalThis.indexedDB;
  if (!idb) throw new Error('vexil: storage: IndexedDB is not available here');
  let db;
  const open = () =>
    (db ??= new Promise((resolve, reject) => {
      const req = idb.open(dbName, 1);
      req.onupgradeneeded = () => req.result.createObjectStore('snapshots');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    }));
  const run = async (mode, f) => {
    const tx = (await open()).transaction('snapshots', mode);
    const req = f(tx.objectStore('snapshots'));
    return new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  };
  return {
    get: async (key) => (await run('readonly', (s) => s.get(key))) ?? null,
    set: (key, value) => run('readwrite', (s) => s.put(value, key)),
  };
}

/**
 * A file per key in dir (Node). Writes go to a temporary file that is renamed over the old
 * one, so a crash never leaves a torn snapshot.
 * @param {string} dir
 * @returns {SnapshotStore}
 */
export function fileStore(dir) {
  const fs = import('node:fs/promises');
  const path = (key) => dir.replace(/\/$/, '') + '/' + key.replace(/[^A-Za-z0-9._-]/g, '_') + '.json';
  return {
    async get(key) {
      try {
        return await (await fs).readFile(path(key), 'utf8');
      } catch (e) {
        if (e.code === 'ENOENT') return null;
        throw e;
      }
    },
    async set(key, value) {
      const f = await fs;
      await f.mkdir(dir, { recursive: true });
      const tmp = path(key) + '.' + process.pid + '.tmp';
      await f.writeFile(tmp, value);
      await f.rename(tmp, path(key));
    },
  };
}

/** The default store: IndexedDB in browsers, else localStorage, else none (Node: give a dir). */
export function defaultStore() {
  if (globalThis.indexedDB) return indexedDBStore();
  if (globalThis.localStorage) return localStorageStore();
  return null;
}

/**
 * Resolves the storage option: a store object, 'indexedDB', 'localStorage', a directory
 * (Node), false/null for none, undefined for the default.
 * @returns {SnapshotStore|null}
 */
export function resolveStore(opt) {
  if (opt === undefined) return defaultStore();
  if (opt === false || opt === null || opt === 'none') return null;
  if (opt === 'indexedDB') return indexedDBStore();
  if (opt === 'localStorage') return localStorageStore();
  if (typeof opt === 'string') return fileStore(opt);
  if (typeof opt === 'object' && typeof opt.get === 'function' && typeof opt.set === 'function') return opt;
  throw new TypeError('vexil: storage: want a store {get, set}, "indexedDB", "localStorage", a directory, or false');
}
