import type { PresenceEnvironment } from '../../src';

/**
 * Simulated browser for multi-tab tests. Each tab gets its own window and document, and every
 * tab of one browser shares a BroadcastChannel hub, a Web Locks manager and a localStorage, as
 * tabs of one origin do.
 */

type Listener = EventListenerOrEventListenerObject;

const captureOf = (options?: boolean | EventListenerOptions) =>
  typeof options === 'boolean' ? options : Boolean(options?.capture);

/**
 * EventTarget that keeps a count of its listeners, so that tests can check that every listener
 * was removed. Listeners match on type, callback and capture, as in the DOM.
 * NOTE: listeners added with `once` or `signal` stay counted after they go away on their own.
 */
export class TrackedEventTarget extends EventTarget {
  private readonly listeners = new Map<string, Set<Listener>>();

  override addEventListener(
    type: string,
    listener: Listener | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
    if (!listener) return;

    const key = `${type}:${captureOf(options)}`;
    const set = this.listeners.get(key) ?? new Set();
    set.add(listener);
    this.listeners.set(key, set);
  }

  override removeEventListener(
    type: string,
    listener: Listener | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener, options);
    if (listener) this.listeners.get(`${type}:${captureOf(options)}`)?.delete(listener);
  }

  /** Number of listeners currently added, over all types. */
  get listenerCount(): number {
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }

  /** Event types that still have a listener, with `:true` for capture listeners. */
  listenerKeys(): string[] {
    return [...this.listeners].filter(([, set]) => set.size > 0).map(([key]) => key);
  }
}

export class SimulatedDocument extends TrackedEventTarget {
  visibilityState: DocumentVisibilityState = 'visible';
}

/** A message as one tab posted it, after structured cloning. */
export interface PostedMessage {
  channel: string;
  data: unknown;
}

/**
 * One BroadcastChannel object of a simulated tab. It delegates listeners to a plain EventTarget
 * and calls `onmessage` itself, because happy-dom's EventTarget also calls an `on<type>` property
 * of a subclass instance, which would deliver every message to `onmessage` twice.
 */
class SimulatedChannel {
  onmessage: ((event: MessageEvent) => void) | null = null;
  onmessageerror: ((event: MessageEvent) => void) | null = null;
  private readonly listeners = new EventTarget();
  private closed = false;

  constructor(
    private readonly hub: ChannelHub,
    readonly name: string,
  ) {
    hub.open.add(this);
  }

  addEventListener(type: string, listener: Listener | null, options?: boolean | AddEventListenerOptions): void {
    this.listeners.addEventListener(type, listener, options);
  }

  removeEventListener(type: string, listener: Listener | null, options?: boolean | EventListenerOptions): void {
    this.listeners.removeEventListener(type, listener, options);
  }

  dispatchEvent(event: Event): boolean {
    return this.listeners.dispatchEvent(event);
  }

  postMessage(data: unknown): void {
    if (this.closed) throw new DOMException(`BroadcastChannel "${this.name}" is closed.`, 'InvalidStateError');

    this.hub.posted.push({ channel: this.name, data: structuredClone(data) });
    for (const receiver of this.hub.open) {
      if (receiver === this || receiver.name !== this.name) continue;
      const copy = structuredClone(data);
      setTimeout(() => receiver.deliver(copy), 0);
    }
  }

  close(): void {
    this.closed = true;
    this.hub.open.delete(this);
  }

  private deliver(data: unknown): void {
    if (this.closed) return;

    const event = new Event('message') as MessageEvent;
    Object.defineProperty(event, 'data', { value: data });
    this.onmessage?.call(this as unknown as BroadcastChannel, event);
    this.dispatchEvent(event);
  }
}

/**
 * In-memory BroadcastChannel for the tabs of one browser. Like the real one, it structured-clones
 * the data, delivers it in a later task to every other open channel of the same name (never to
 * the sender object), and throws an InvalidStateError when a closed channel posts.
 */
export class ChannelHub {
  /** Every message posted on any channel, in order. */
  readonly posted: PostedMessage[] = [];
  /** Constructor to pass as `environment.BroadcastChannel`. */
  readonly BroadcastChannel: new (
    name: string,
  ) => BroadcastChannel;
  /** Channels created and not yet closed. */
  readonly open = new Set<SimulatedChannel>();

  constructor() {
    const hub = this;
    this.BroadcastChannel = class extends SimulatedChannel {
      constructor(name: string) {
        super(hub, name);
      }
    } as unknown as new (
      name: string,
    ) => BroadcastChannel;
  }

  /** Number of channels created and not yet closed. */
  get openCount(): number {
    return this.open.size;
  }

  /** Names of the open channels, without repeats. */
  openNames(): string[] {
    return [...new Set([...this.open].map((channel) => channel.name))];
  }
}

interface LockWaiter {
  record: LockRequestRecord;
  callback: (lock: Lock) => unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** Outcome of one `navigator.locks.request` call, for assertions. */
export interface LockRequestRecord {
  clientId: string;
  name: string;
  outcome: 'waiting' | 'granted' | 'released' | 'aborted';
  /** Rejection reason of an aborted request. */
  reason?: unknown;
}

/**
 * In-memory Web Locks manager shared by the tabs of one browser. It grants exclusive locks in
 * request order, calls the callback in a later microtask, releases the lock when the callback's
 * promise settles, and rejects a waiting request with the signal's reason (an AbortError by
 * default) when its AbortSignal aborts. Shared, `ifAvailable` and `steal` requests are rejected.
 */
export class LockHub {
  readonly requests: LockRequestRecord[] = [];
  private readonly holders = new Map<string, string>();
  private readonly queues = new Map<string, LockWaiter[]>();

  /** Returns the `navigator.locks` of one tab, whose requests carry that tab's client id. */
  managerFor(clientId: string): Pick<LockManager, 'request'> {
    const request = (name: string, optionsOrCallback: unknown, maybeCallback?: unknown) => {
      const hasOptions = typeof optionsOrCallback !== 'function';
      const options = (hasOptions ? (optionsOrCallback ?? {}) : {}) as LockOptions;
      const callback = (hasOptions ? maybeCallback : optionsOrCallback) as (lock: Lock) => unknown;
      return this.request(clientId, name, options, callback);
    };
    return { request } as Pick<LockManager, 'request'>;
  }

  /** Client id of the tab that holds the lock `name`, or undefined. */
  holderOf(name: string): string | undefined {
    return this.holders.get(name);
  }

  /** Number of locks held, over all names. */
  get heldCount(): number {
    return this.holders.size;
  }

  /** Number of requests waiting for a lock, over all names. */
  get waitingCount(): number {
    let count = 0;
    for (const queue of this.queues.values()) count += queue.length;
    return count;
  }

  private request(
    clientId: string,
    name: string,
    options: LockOptions,
    callback: (lock: Lock) => unknown,
  ): Promise<unknown> {
    if (typeof callback !== 'function') {
      return Promise.reject(new TypeError('navigator.locks.request needs a callback.'));
    }
    if ((options.mode ?? 'exclusive') !== 'exclusive' || options.ifAvailable || options.steal) {
      return Promise.reject(
        new DOMException('The simulated LockManager supports only exclusive requests.', 'NotSupportedError'),
      );
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);

    const record: LockRequestRecord = { clientId, name, outcome: 'waiting' };
    this.requests.push(record);

    return new Promise((resolve, reject) => {
      const waiter: LockWaiter = { record, callback, resolve, reject };
      if (signal) {
        waiter.signal = signal;
        waiter.onAbort = () => {
          const queue = this.queues.get(name) ?? [];
          const index = queue.indexOf(waiter);
          if (index < 0) return;
          queue.splice(index, 1);
          record.outcome = 'aborted';
          record.reason = signal.reason ?? new DOMException('The lock request was aborted.', 'AbortError');
          reject(record.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      const queue = this.queues.get(name) ?? [];
      queue.push(waiter);
      this.queues.set(name, queue);
      this.grantNext(name);
    });
  }

  private grantNext(name: string): void {
    if (this.holders.has(name)) return;
    const waiter = this.queues.get(name)?.shift();
    if (!waiter) return;

    // A granted request no longer reacts to its signal.
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    const { record } = waiter;
    this.holders.set(name, record.clientId);
    record.outcome = 'granted';

    const release = () => {
      this.holders.delete(name);
      record.outcome = 'released';
      this.grantNext(name);
    };
    Promise.resolve()
      .then(() => waiter.callback({ name, mode: 'exclusive' } as Lock))
      .then(
        (value) => {
          release();
          waiter.resolve(value);
        },
        (error: unknown) => {
          release();
          waiter.reject(error);
        },
      );
  }
}

/** localStorage shared by the tabs of one browser. */
export class MemoryStorage implements Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> {
  readonly entries = new Map<string, string>();

  getItem(key: string): string | null {
    return this.entries.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    this.entries.set(key, String(value));
  }

  removeItem(key: string): void {
    this.entries.delete(key);
  }
}

/** A call of a tab's `environment.fetch`. The package uses it only for the keepalive request on pagehide. */
export interface FetchCall {
  url: string;
  init: RequestInit | undefined;
}

export interface TabOptions {
  /** `false` gives the tab no BroadcastChannel. @default true */
  broadcastChannel?: boolean;
  /** `false` gives the tab a navigator without `locks`. @default true */
  locks?: boolean;
  /** Members that replace the simulated ones, such as `random`. */
  environment?: Partial<PresenceEnvironment>;
}

/** One simulated tab, with its window, document and the environment to pass to PresenceProvider. */
export interface SimulatedTab {
  /** Client id of the tab's lock requests. */
  readonly id: string;
  readonly window: TrackedEventTarget;
  readonly document: SimulatedDocument;
  /** Object for the `environment` prop. It must stay the same across renders, because a new object creates a new engine. */
  readonly environment: Partial<PresenceEnvironment>;
  readonly fetchCalls: FetchCall[];
  /** Dispatches an input event (default `pointerdown`) on the window. */
  input(type?: string): void;
  /** Sets `document.visibilityState` and dispatches `visibilitychange` when it changes. */
  setVisibility(state: DocumentVisibilityState): void;
  pageHide(persisted: boolean): void;
  pageShow(persisted: boolean): void;
  /** Listeners still added to the window and the document together. */
  listenerCount(): number;
}

function pageTransitionEvent(type: 'pagehide' | 'pageshow', persisted: boolean): Event {
  const event = new Event(type);
  Object.defineProperty(event, 'persisted', { value: persisted });
  return event;
}

export interface SimulatedBrowser {
  readonly channels: ChannelHub;
  readonly locks: LockHub;
  readonly storage: MemoryStorage;
  readonly tabs: SimulatedTab[];
  createTab(options?: TabOptions): SimulatedTab;
}

/** Creates a browser with no tabs. Tabs created from it share channels, locks and storage. */
export function createBrowser(): SimulatedBrowser {
  const channels = new ChannelHub();
  const locks = new LockHub();
  const storage = new MemoryStorage();
  const tabs: SimulatedTab[] = [];

  function createTab({
    broadcastChannel = true,
    locks: withLocks = true,
    environment: extra,
  }: TabOptions = {}): SimulatedTab {
    const id = `tab-${tabs.length + 1}`;
    const window = new TrackedEventTarget();
    const document = new SimulatedDocument();
    const fetchCalls: FetchCall[] = [];

    const environment: Partial<PresenceEnvironment> = {
      window,
      document,
      navigator: withLocks ? { onLine: true, locks: locks.managerFor(id) } : { onLine: true },
      localStorage: storage,
      BroadcastChannel: broadcastChannel ? channels.BroadcastChannel : null,
      // Records the call and passes it on to the global fetch, which msw intercepts.
      fetch: (input, init) => {
        fetchCalls.push({ url: String(input), init });
        return globalThis.fetch(input, init);
      },
      ...extra,
    };

    const tab: SimulatedTab = {
      id,
      window,
      document,
      environment,
      fetchCalls,
      input: (type = 'pointerdown') => window.dispatchEvent(new Event(type)),
      setVisibility(state) {
        if (document.visibilityState === state) return;
        document.visibilityState = state;
        document.dispatchEvent(new Event('visibilitychange'));
      },
      pageHide: (persisted) => window.dispatchEvent(pageTransitionEvent('pagehide', persisted)),
      pageShow: (persisted) => window.dispatchEvent(pageTransitionEvent('pageshow', persisted)),
      listenerCount: () => window.listenerCount + document.listenerCount,
    };
    tabs.push(tab);
    return tab;
  }

  return { channels, locks, storage, tabs, createTab };
}
