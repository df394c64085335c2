import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { PRESENCE_PATH } from './server';
import { delay, WAIT_TIMEOUT, waitFor } from './wait';

// Playwright keeps every page `visible`, so this driver speaks the DevTools protocol (CDP) itself:
// only a plain CDP client sees Chromium hide a tab when another one opens.

const DEFAULT_BINARY = '/usr/bin/chromium';
const LAUNCH_TIMEOUT = 20_000;
const COMMAND_TIMEOUT = 10_000;
const EXIT_TIMEOUT = 5_000;

/** Returns the Chromium binary from `CHROMIUM_PATH` or `/usr/bin/chromium`, or throws an Error with the install command. */
export function findChromium(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      throw new Error(
        `Chromium not found: CHROMIUM_PATH is set to ${fromEnv}, but no file exists there. ` +
          `Point it at a Chromium binary, or unset it and install Chromium at ${DEFAULT_BINARY} with \`apt-get install -y chromium\`.`,
      );
    }
    return fromEnv;
  }
  if (!existsSync(DEFAULT_BINARY)) {
    throw new Error(
      `Chromium not found: CHROMIUM_PATH is not set and ${DEFAULT_BINARY} does not exist. ` +
        'The browser tests need a real Chromium: install it with `apt-get install -y chromium`, or set CHROMIUM_PATH.',
    );
  }
  return DEFAULT_BINARY;
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  sessionId?: string;
  result?: unknown;
  error?: { code: number; message: string };
}

/** An event from the browser or from one attached tab (then `sessionId` is set). */
export interface CdpEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

/** Sends commands over one browser WebSocket and routes replies and events. */
class CdpConnection {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly listeners = new Set<(event: CdpEvent) => void>();

  constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => this.receive(JSON.parse(String(data)) as CdpMessage));
    socket.on('close', () => {
      for (const { reject } of this.pending.values()) reject(new Error('The Chromium DevTools connection closed.'));
      this.pending.clear();
    });
  }

  static async open(url: string): Promise<CdpConnection> {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return new CdpConnection(socket);
  }

  send<T = Record<string, unknown>>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`CDP command ${method} timed out after ${COMMAND_TIMEOUT} ms.`));
      }, COMMAND_TIMEOUT);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.socket.send(JSON.stringify({ id, method, params, sessionId }));
    });
  }

  /** Calls `listener` with every event until the returned function is called. */
  onEvent(listener: (event: CdpEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close() {
    this.socket.close();
  }

  private receive(message: CdpMessage) {
    if (message.id !== undefined) {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) waiter?.reject(new Error(`CDP error ${message.error.code}: ${message.error.message}`));
      else waiter?.resolve(message.result);
      return;
    }
    if (message.method) {
      const event = { method: message.method, params: message.params ?? {}, sessionId: message.sessionId };
      for (const listener of this.listeners) listener(event);
    }
  }
}

/** A presence request as Chromium reported it for the tab that sent it. */
export interface SentRequest {
  status: string | null;
  url: string;
}

interface RemoteObject {
  type: string;
  value?: unknown;
  description?: string;
}

interface EvaluateResult {
  result: RemoteObject;
  exceptionDetails?: { text: string; exception?: RemoteObject };
}

/** One tab (a CDP page target) attached with a flat session. */
export class Tab {
  /** Presence requests this tab sent, in order, from the CDP Network domain. */
  readonly sentRequests: SentRequest[] = [];
  private readonly bodyLookups: Promise<void>[] = [];
  /** Uncaught exceptions, unhandled rejections and `console.error` calls of the page. */
  readonly pageErrors: string[] = [];
  private closed = false;

  constructor(
    private readonly connection: CdpConnection,
    readonly targetId: string,
    readonly sessionId: string,
  ) {
    connection.onEvent((event) => {
      if (event.sessionId === sessionId) this.record(event);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Statuses of the presence requests this tab sent, once every request body has been read. */
  async sentStatuses(): Promise<(string | null)[]> {
    await Promise.all(this.bodyLookups);
    return this.sentRequests.map((request) => request.status);
  }

  /** Evaluates `expression` in the page, awaits a returned promise, and returns the value as JSON. */
  async evaluate<T>(expression: string): Promise<T> {
    const { result, exceptionDetails } = await this.send<EvaluateResult>('Runtime.evaluate', {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    if (exceptionDetails) {
      throw new Error(
        `Evaluating in the page failed: ${exceptionDetails.exception?.description ?? exceptionDetails.text}\nExpression: ${expression}`,
      );
    }
    return result.value as T;
  }

  /** Makes this the foreground tab, as a user switching tabs does. */
  async activate(): Promise<void> {
    await this.connection.send('Target.activateTarget', { targetId: this.targetId });
  }

  /** Closes the tab as a user does, which fires `pagehide`, and waits until Chromium detached it. */
  async close(): Promise<void> {
    let stopListening = () => {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    const detached = new Promise<void>((resolve, reject) => {
      stopListening = this.connection.onEvent((event) => {
        if (event.method === 'Target.detachedFromTarget' && event.params.sessionId === this.sessionId) resolve();
      });
      timer = setTimeout(
        () => reject(new Error(`Timed out after ${COMMAND_TIMEOUT} ms waiting for tab ${this.targetId} to close.`)),
        COMMAND_TIMEOUT,
      );
    });
    try {
      await this.connection.send('Target.closeTarget', { targetId: this.targetId });
      await detached;
      this.closed = true;
    } finally {
      clearTimeout(timer);
      stopListening();
    }
  }

  /**
   * Clicks the centre of the first element that matches `selector` with real mouse events (move,
   * press, release). The tests click only the foreground tab, as a user can.
   */
  async click(selector: string): Promise<void> {
    const point = await this.evaluate<{ x: number; y: number }>(`(() => {
      const element = document.querySelector(${JSON.stringify(selector)});
      if (!element) throw new Error('No element matches ' + ${JSON.stringify(selector)});
      const box = element.getBoundingClientRect();
      return { x: box.left + box.width / 2, y: box.top + box.height / 2 };
    })()`);
    await this.moveMouse(point.x, point.y);
    await this.send('Input.dispatchMouseEvent', {
      type: 'mousePressed',
      ...point,
      button: 'left',
      buttons: 1,
      clickCount: 1,
    });
    await this.send('Input.dispatchMouseEvent', {
      type: 'mouseReleased',
      ...point,
      button: 'left',
      buttons: 0,
      clickCount: 1,
    });
  }

  /** Moves the mouse to (x, y) in CSS pixels of the viewport, which fires `pointermove`. */
  async moveMouse(x: number, y: number): Promise<void> {
    await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x, y, button: 'none', buttons: 0 });
  }

  send<T = Record<string, unknown>>(method: string, params: object = {}): Promise<T> {
    return this.connection.send<T>(method, params, this.sessionId);
  }

  // Chromium 156 sends requestWillBeSent without postData for the package's requests, so the body
  // is read with getRequestPostData. A tab that closed meanwhile leaves the status null.
  private async readBody(requestId: string, sent: SentRequest) {
    try {
      const { postData } = await this.send<{ postData: string }>('Network.getRequestPostData', { requestId });
      sent.status = statusOf(postData);
    } catch {
      // The tab closed or the body is no longer available.
    }
  }

  private record({ method, params }: CdpEvent) {
    if (method === 'Network.requestWillBeSent') {
      const request = params.request as { url: string; method: string; postData?: string; hasPostData?: boolean };
      if (request.method === 'PUT' && new URL(request.url).pathname === PRESENCE_PATH) {
        const sent: SentRequest = { url: request.url, status: statusOf(request.postData) };
        this.sentRequests.push(sent);
        if (sent.status === null && request.hasPostData)
          this.bodyLookups.push(this.readBody(params.requestId as string, sent));
      }
    } else if (method === 'Runtime.exceptionThrown') {
      const details = params.exceptionDetails as EvaluateResult['exceptionDetails'];
      this.pageErrors.push(details?.exception?.description ?? details?.text ?? 'unknown exception');
    } else if (method === 'Runtime.consoleAPICalled' && params.type === 'error') {
      const args = params.args as RemoteObject[];
      this.pageErrors.push(args.map((arg) => arg.value ?? arg.description ?? arg.type).join(' '));
    }
  }
}

/** A headless Chromium with a fresh profile, started and stopped by one test file. */
export class Chromium {
  readonly tabs: Tab[] = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly profileDir: string,
    private readonly connection: CdpConnection,
  ) {}

  /** Starts Chromium on a free DevTools port of 127.0.0.1 and connects to it. */
  static async launch(): Promise<Chromium> {
    const binary = findChromium();
    const profileDir = mkdtempSync(join(tmpdir(), 'presence-chromium-'));
    const child = spawn(
      binary,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--remote-debugging-address=127.0.0.1',
        '--remote-debugging-port=0',
        `--user-data-dir=${profileDir}`,
        'about:blank',
      ],
      // Its own process group, led by this pid, lets close() wait for every helper process to exit.
      { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
    );

    try {
      const url = await readDevToolsUrl(child);
      return new Chromium(child, profileDir, await CdpConnection.open(url));
    } catch (error) {
      await stopProcess(child);
      removeProfile(profileDir);
      throw error;
    }
  }

  /**
   * Opens `url` in a new foreground tab of the same profile, so the tabs share BroadcastChannel
   * and Web Locks. The tab is attached before it navigates, so no event of the page is missed.
   */
  async openTab(url: string): Promise<Tab> {
    const { targetId } = await this.connection.send<{ targetId: string }>('Target.createTarget', {
      url: 'about:blank',
    });
    const { sessionId } = await this.connection.send<{ sessionId: string }>('Target.attachToTarget', {
      targetId,
      flatten: true,
    });
    const tab = new Tab(this.connection, targetId, sessionId);
    this.tabs.push(tab);

    await tab.send('Runtime.enable');
    await tab.send('Network.enable');
    await tab.send('Page.navigate', { url });
    return tab;
  }

  /** Closes every tab this driver opened that is still open. */
  async closeTabs(): Promise<void> {
    for (const tab of this.tabs) {
      if (!tab.isClosed) await tab.close();
    }
    this.tabs.length = 0;
  }

  /** Closes the DevTools connection, stops this Chromium by its pid and removes its profile. */
  async close(): Promise<void> {
    this.connection.close();
    await stopProcess(this.child);
    removeProfile(this.profileDir);
  }
}

/** Waits until the test page in `tab` has mounted the provider and exposed its state. */
export async function waitForPageReady(tab: Tab): Promise<void> {
  await waitFor(
    'the test page to mount',
    () => tab.evaluate<boolean>('window.presenceState !== undefined'),
    Boolean,
    WAIT_TIMEOUT,
  );
}

function statusOf(postData: string | undefined): string | null {
  try {
    const body = JSON.parse(postData ?? '') as { status?: unknown };
    return typeof body.status === 'string' ? body.status : null;
  } catch {
    return null;
  }
}

/** Reads the browser's DevTools WebSocket URL from the line Chromium prints on stderr. */
function readDevToolsUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const stderr = child.stderr as NonNullable<ChildProcess['stderr']>;
    let output = '';
    const timer = setTimeout(
      () => finish(new Error(`Chromium printed no DevTools URL within ${LAUNCH_TIMEOUT} ms. Its stderr:\n${output}`)),
      LAUNCH_TIMEOUT,
    );

    function finish(result: string | Error) {
      clearTimeout(timer);
      stderr.off('data', onData);
      child.off('exit', onExit);
      // Keep reading, so that a full pipe never blocks Chromium.
      stderr.resume();
      if (typeof result === 'string') resolve(result);
      else reject(result);
    }
    function onData(chunk: Buffer) {
      output += chunk.toString('utf8');
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(output);
      if (match?.[1]) finish(match[1]);
    }
    function onExit(code: number | null, signal: string | null) {
      finish(new Error(`Chromium exited during startup (code ${code}, signal ${signal}). Its stderr:\n${output}`));
    }

    stderr.on('data', onData);
    child.on('exit', onExit);
    child.on('error', (error) => finish(new Error(`Failed to start Chromium: ${error.message}`)));
  });
}

/**
 * Sends SIGTERM to the Chromium we started, and SIGKILL when it has not exited in time. Then waits
 * until its helper processes have left its process group, because they write to the profile for
 * about two seconds after the browser exits.
 */
async function stopProcess(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;

  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT);
    await exited;
    clearTimeout(timer);
  }

  const deadline = Date.now() + EXIT_TIMEOUT;
  while (isGroupAlive(pid) && Date.now() < deadline) await delay(50);
}

/** Tells whether any process is left in the group that `pid` leads. Signal 0 only probes. */
function isGroupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function removeProfile(profileDir: string) {
  try {
    rmSync(profileDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  } catch (error) {
    console.warn(`[browser tests] Failed to remove the Chromium profile ${profileDir}; delete it by hand.`, error);
  }
}
