// A minimal wasi_snapshot_preview1 for the standard-Go module (dist/vexil-go.wasm, a wasip1
// reactor), the same in Node and in a browser page: browsers have no WASI, and one shim keeps
// one code path. It provides exactly the functions that module imports (list them with
// WebAssembly.Module.imports) and no file system: no arguments, no environment, no preopened
// directories; stdout and stderr go to the console; the clocks are the host's; random_get is
// crypto.getRandomValues. poll_oneoff never sleeps (a reactor's runtime only polls when every
// goroutine waits on a timer, which the engine never does). proc_exit throws, so an exiting or
// panicking guest fails the caller's call instead of returning.

const ESUCCESS = 0, EBADF = 8, EINVAL = 28;

/** The functions this shim provides, by name: a module importing anything else is refused. */
export const WASI_FUNCTIONS = ['args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_time_get', 'random_get',
  'fd_write', 'fd_close', 'fd_fdstat_get', 'fd_fdstat_set_flags', 'fd_prestat_get', 'fd_prestat_dir_name', 'poll_oneoff',
  'sched_yield', 'proc_exit'];

/** The error proc_exit throws. */
export class WASIExit extends Error {
  constructor(code) {
    super(`wasi: the guest exited with code ${code}`);
    this.code = code;
  }
}

/**
 * Checks that every import of module is one this shim provides; throws naming the first that
 * is not.
 * @param {WebAssembly.Module} module
 */
export function checkImports(module) {
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module !== 'wasi_snapshot_preview1' || imp.kind !== 'function' || !WASI_FUNCTIONS.includes(imp.name)) {
      throw new Error(`wasi: the module imports ${imp.module}.${imp.name} (${imp.kind}), which this shim does not provide`);
    }
  }
}

/**
 * A fresh WASI environment for one instance: pass `imports` to WebAssembly.instantiate, then
 * `bind(instance)` before calling any export (_initialize included).
 * @returns {{imports: WebAssembly.Imports, bind(instance: WebAssembly.Instance): void}}
 */
export function wasi() {
  let memory = null;
  const view = () => new DataView(memory.buffer);
  const bytes = () => new Uint8Array(memory.buffer);
  const lines = { 1: '', 2: '' };
  const dec = new TextDecoder();
  // Realtime from Date.now(); the monotonic, process and thread clocks from performance.now().
  const nowNs = (id) => (id === 0 ? BigInt(Date.now()) * 1000000n : BigInt(Math.round(performance.now() * 1e6)));
  const fns = {
    args_sizes_get(argc, size) { view().setUint32(argc, 0, true); view().setUint32(size, 0, true); return ESUCCESS; },
    args_get() { return ESUCCESS; },
    environ_sizes_get(count, size) { view().setUint32(count, 0, true); view().setUint32(size, 0, true); return ESUCCESS; },
    environ_get() { return ESUCCESS; },
    clock_time_get(id, _precision, out) {
      if (id < 0 || id > 3) return EINVAL;
      view().setBigUint64(out, nowNs(id), true);
      return ESUCCESS;
    },
    random_get(ptr, len) {
      // getRandomValues fills at most 65,536 bytes per call.
      for (let off = 0; off < len; off += 65536) crypto.getRandomValues(bytes().subarray(ptr + off, ptr + Math.min(len, off + 65536)));
      return ESUCCESS;
    },
    fd_write(fd, iovs, n, written) {
      if (fd !== 1 && fd !== 2) return EBADF;
      const v = view();
      let total = 0;
      for (let i = 0; i < n; i++) {
        const p = v.getUint32(iovs + i * 8, true), len = v.getUint32(iovs + i * 8 + 4, true);
        lines[fd] += dec.decode(bytes().subarray(p, p + len));
        total += len;
      }
      // Whole lines only: the guest writes a line in pieces.
      const cut = lines[fd].lastIndexOf('\n');
      if (cut >= 0) {
        (fd === 1 ? console.log : console.error)(`[guest] ${lines[fd].slice(0, cut)}`);
        lines[fd] = lines[fd].slice(cut + 1);
      }
      view().setUint32(written, total, true);
      return ESUCCESS;
    },
    fd_close(fd) { return fd <= 2 ? ESUCCESS : EBADF; },
    fd_fdstat_get(fd, out) {
      if (fd > 2) return EBADF;
      const v = view();
      v.setUint8(out, 2); // filetype: character device
      v.setUint16(out + 2, 0, true); // flags
      v.setBigUint64(out + 8, 0xffffffffn, true); // rights base
      v.setBigUint64(out + 16, 0xffffffffn, true); // rights inheriting
      return ESUCCESS;
    },
    fd_fdstat_set_flags(fd) { return fd <= 2 ? ESUCCESS : EBADF; },
    // No preopened directories: EBADF ends the guest's scan at the first descriptor.
    fd_prestat_get() { return EBADF; },
    fd_prestat_dir_name() { return EBADF; },
    poll_oneoff(inPtr, outPtr, n, nout) {
      // Every subscription fires at once (48-byte subscriptions in, 32-byte events out).
      const v = view();
      for (let i = 0; i < n; i++) {
        const s = inPtr + i * 48, e = outPtr + i * 32;
        v.setBigUint64(e, v.getBigUint64(s, true), true); // userdata
        v.setUint16(e + 8, 0, true); // error
        v.setUint8(e + 10, v.getUint8(s + 8)); // type
        for (let k = 11; k < 32; k++) v.setUint8(e + k, 0);
      }
      v.setUint32(nout, n, true);
      return ESUCCESS;
    },
    sched_yield() { return ESUCCESS; },
    proc_exit(code) { throw new WASIExit(code); },
  };
  return {
    imports: { wasi_snapshot_preview1: fns },
    bind(instance) {
      memory = instance.exports.memory;
      if (!(memory instanceof WebAssembly.Memory)) throw new Error('wasi: the module exports no memory');
    },
  };
}
