// The daemon source (sync/PROTOCOL.md): GET /sdk/v1/snapshot (ETag), then the SSE stream
// /sdk/v1/stream with resume (Last-Event-ID), gap detection (refetch), heartbeat watchdog and
// reconnect with backoff. EventSource in browsers; a fetch-based reader elsewhere (Node).

const HEARTBEAT_TIMEOUT = 45_000;

/**
 * What the source needs of the client.
 * @typedef {object} Sink
 * @property {() => number} version the version held, -1 for none
 * @property {(text: string, from: string) => boolean} snapshot load a full snapshot; false when refused
 * @property {(patch: object) => boolean} patch apply a patch that follows the held version; false when refused
 * @property {(connected: boolean, why?: string) => void} connection the stream opened (true) or failed
 * @property {(err: Error) => void} error report a problem
 */

export class DaemonSource {
  /**
   * @param {object} o
   * @param {string} o.url daemon base URL
   * @param {string} o.clientKey
   * @param {Sink} o.sink
   * @param {{min?: number, max?: number}} [o.backoff] reconnect delays in ms (default 1 s doubling to 30 s)
   * @param {boolean} [o.eventSource] use EventSource (default: when the platform has it)
   */
  constructor(o) {
    this.base = o.url.replace(/\/+$/, '');
    this.key = o.clientKey;
    this.sink = o.sink;
    this.minDelay = o.backoff?.min ?? 1000;
    this.maxDelay = o.backoff?.max ?? 30_000;
    this.useEventSource = o.eventSource ?? typeof globalThis.EventSource === 'function';
    this.delay = this.minDelay;
    this.closed = false;
    this.timer = null;
    this.conn = null; // {close()}
    this.watchdog = null;
    this.lastGap = 0;
    this.onOnline = () => this.retryNow();
    globalThis.addEventListener?.('online', this.onOnline);
  }

  /** Starts: fetch the snapshot, then stream. Resolves after the first attempt, whatever it gave. */
  start() {
    return this.connect();
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    this.conn?.close();
    this.conn = null;
    globalThis.removeEventListener?.('online', this.onOnline);
  }

  retryNow() {
    if (this.closed || this.conn) return;
    clearTimeout(this.timer);
    this.delay = this.minDelay;
    this.connect(false);
  }

  /**
   * One attempt. The first one (and one after a gap) fetches the snapshot first; reconnects
   * holding a version resume the stream from it (Last-Event-ID), and the daemon sends the
   * patches missed, or a snapshot when it no longer has them.
   */
  async connect(refetch = true) {
    this.timer = null;
    if (this.closed) return;
    try {
      if (refetch || this.sink.version() < 0) await this.fetchSnapshot();
      if (this.closed) return;
      await this.openStream();
    } catch (e) {
      if (this.closed) return;
      this.fail(e);
    }
  }

  /** Reports err and tries again after the backoff delay; refetch: start with the snapshot. */
  fail(err, refetch = false) {
    this.conn?.close();
    this.conn = null;
    clearTimeout(this.watchdog);
    if (this.closed) return;
    this.sink.connection(false, err.message);
    this.sink.error(err);
    // Backoff with jitter: ±25 %.
    const wait = this.delay * (0.75 + Math.random() * 0.5);
    this.delay = Math.min(this.delay * 2, this.maxDelay);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(refetch), wait);
    this.timer.unref?.();
  }

  headers(extra) {
    return { Authorization: 'Bearer ' + this.key, ...extra };
  }

  /** GET /sdk/v1/snapshot with If-None-Match; loads it unless 304. */
  async fetchSnapshot() {
    const v = this.sink.version();
    const h = this.headers(v >= 0 ? { 'If-None-Match': `"${v}"` } : {});
    const r = await fetch(this.base + '/sdk/v1/snapshot', { headers: h, cache: 'no-store' });
    if (r.status === 304) return;
    if (!r.ok) throw new Error(`GET /sdk/v1/snapshot: HTTP ${r.status}${await errorText(r)}`);
    const text = await r.text();
    if (!this.sink.snapshot(text, 'daemon')) throw new Error('GET /sdk/v1/snapshot: the snapshot was refused');
  }

  openStream() {
    return this.useEventSource ? this.openEventSource() : this.openFetchStream();
  }

  /** Handles one SSE event; a gap or an unusable event makes the caller reconnect. */
  event(type, data) {
    this.kick();
    switch (type) {
      case 'snapshot':
        if (!this.sink.snapshot(data, 'daemon')) throw new Error('stream: a snapshot event was refused');
        return;
      case 'patch': {
        const p = JSON.parse(data);
        const held = this.sink.version();
        if (typeof p.version !== 'number' || typeof p.previousVersion !== 'number') throw new Error('stream: patch without version/previousVersion');
        if (p.version <= held) return; // already have it
        if (p.previousVersion !== held) throw new GapError(`stream: gap (hold version ${held}, patch turns ${p.previousVersion} into ${p.version}): refetching`);
        if (!this.sink.patch(p)) throw new GapError('stream: patch refused: refetching');
        return;
      }
      case 'heartbeat': {
        const p = JSON.parse(data);
        if (typeof p.version === 'number' && p.version > this.sink.version()) {
          throw new GapError(`stream: heartbeat says version ${p.version}, we hold ${this.sink.version()}: refetching`);
        }
        return;
      }
      case 'reconnect': {
        const p = safeJSON(data);
        const ms = typeof p?.retryMs === 'number' ? p.retryMs : this.minDelay;
        throw new ReconnectError(`stream: daemon asks to reconnect (${p?.reason ?? 'no reason'})`, ms);
      }
      default:
      // Unknown events are ignored: newer daemons may send more.
    }
  }

  /** Resets the 45 s silence watchdog. */
  kick() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.fail(new Error('stream: nothing received for 45 s')), HEARTBEAT_TIMEOUT);
    this.watchdog.unref?.();
  }

  opened() {
    this.delay = this.minDelay;
    this.kick();
    this.sink.connection(true);
  }

  /** Routes an error thrown by event(): reconnects as the protocol asks. */
  broken(e) {
    if (this.closed) return;
    if (e instanceof ReconnectError) {
      this.conn?.close();
      this.conn = null;
      this.sink.connection(false, e.message);
      clearTimeout(this.watchdog);
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.connect(false), e.ms + Math.random() * 250);
      this.timer.unref?.();
      return;
    }
    if (e instanceof GapError) {
      // Refetch at once: the daemon is up, we only missed something. Twice within a second
      // means something is wrong on the other side: back off instead of looping.
      const t = Date.now();
      if (t - this.lastGap < 1000) {
        this.lastGap = t;
        this.fail(e, true);
        return;
      }
      this.lastGap = t;
      this.sink.error(e);
      this.conn?.close();
      this.conn = null;
      clearTimeout(this.watchdog);
      this.connect();
      return;
    }
    this.fail(e);
  }

  streamURL(query) {
    const v = this.sink.version();
    const q = new URLSearchParams(query ? { key: this.key } : {});
    if (query && v >= 0) q.set('lastEventId', String(v));
    const s = q.toString();
    return this.base + '/sdk/v1/stream' + (s ? '?' + s : '');
  }

  openEventSource() {
    return new Promise((resolve) => {
      // The key and Last-Event-ID go in the query: EventSource cannot set headers.
      const es = new EventSource(this.streamURL(true));
      let open = false;
      const conn = { close: () => es.close() };
      this.conn = conn;
      const handle = (type) => (ev) => {
        if (this.conn !== conn) return;
        try {
          this.event(type, ev.data);
        } catch (e) {
          this.broken(e);
        }
      };
      for (const t of ['snapshot', 'patch', 'heartbeat', 'reconnect']) es.addEventListener(t, handle(t));
      es.onopen = () => {
        open = true;
        this.opened();
        resolve();
      };
      es.onerror = () => {
        // EventSource would retry on its own, without our backoff and gap rules: take over.
        if (this.conn !== conn) return;
        this.fail(new Error(open ? 'stream: connection lost' : 'stream: cannot connect'));
        resolve();
      };
    });
  }

  async openFetchStream() {
    const ac = new AbortController();
    const conn = { close: () => ac.abort() };
    this.conn = conn;
    const v = this.sink.version();
    const r = await fetch(this.streamURL(false), {
      headers: this.headers({ Accept: 'text/event-stream', ...(v >= 0 ? { 'Last-Event-ID': String(v) } : {}) }),
      signal: ac.signal,
      cache: 'no-store',
    });
    if (!r.ok || !r.body) throw new Error(`GET /sdk/v1/stream: HTTP ${r.status}${await errorText(r)}`);
    this.opened();
    // Read in the background; start() resolves once the stream is open.
    this.readStream(r.body, conn).catch((e) => {
      if (this.conn === conn) this.broken(e);
    });
  }

  async readStream(body, conn) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '', type = '', data = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (this.conn !== conn) return;
      if (done) throw new Error('stream: connection closed by the daemon');
      this.kick();
      buf += value;
      let nl;
      while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
        if (buf[nl] === '\r' && nl === buf.length - 1) break; // maybe half of a CRLF: wait
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf[nl] === '\r' && buf[nl + 1] === '\n' ? 2 : 1));
        if (line === '') {
          if (data.length) this.event(type || 'message', data.join('\n'));
          type = '';
          data = [];
          if (this.conn !== conn) return;
          continue;
        }
        if (line[0] === ':') continue;
        const c = line.indexOf(':');
        const field = c < 0 ? line : line.slice(0, c);
        const val = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
        if (field === 'event') type = val;
        else if (field === 'data') data.push(val);
        // id: the version, which the sink tracks itself; retry: only used with reconnect events.
      }
    }
  }
}

class GapError extends Error {}
class ReconnectError extends Error {
  constructor(msg, ms) {
    super(msg);
    this.ms = ms;
  }
}

function safeJSON(s) {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

async function errorText(r) {
  try {
    const t = (await r.text()).trim();
    return t ? ': ' + t.slice(0, 200) : '';
  } catch {
    return '';
  }
}
