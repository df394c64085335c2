import type { Meta, StoryObj } from '@storybook/react-vite';
import { acceptPresence, mockPresenceApi, rejectPresence } from './mockBackend';
import { PresenceDemo } from './PresenceDemo';

const meta = {
  title: 'Presence/Chat header',
  component: PresenceDemo,
  // Each story gets its own channel, so that a status chosen in one story (kept in localStorage)
  // does not carry over to the others.
  render: (args, { id }) => <PresenceDemo {...args} channelName={`storybook-presence:${id}`} />,
  parameters: { layout: 'fullscreen' },
  argTypes: {
    // Timeouts are in ms. The number controls cannot set `false`, which turns a timer off.
    idleTimeout: { control: { type: 'number', min: 1, step: 1000 } },
    hiddenTimeout: { control: { type: 'number', min: 0, step: 1000 } },
    heartbeatInterval: { control: { type: 'number', min: 1, step: 1000 } },
    scenario: { control: false },
    channelName: { table: { disable: true } },
  },
  args: {
    userName: 'Ada Lovelace',
    scenario: '',
  },
} satisfies Meta<typeof PresenceDemo>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Success: Story = {
  args: {
    scenario: 'every request gets 200 {"success": true}. The heartbeat re-sends the status every 15 s.',
    heartbeatInterval: 15_000,
  },
  beforeEach({ msw }) {
    mockPresenceApi(msw, acceptPresence());
  },
};

export const ServerError: Story = {
  args: {
    scenario:
      'every request gets 500. The package retries with exponential backoff (1 s base, 30 s cap, full jitter) while the status is still wanted.',
  },
  beforeEach({ msw }) {
    mockPresenceApi(msw, rejectPresence(500, 'Internal server error'));
  },
};

export const Unauthorized: Story = {
  args: {
    scenario:
      'every request gets 401. The token is a fixed string, so the package does not retry and reports a PresenceAuthError.',
  },
  beforeEach({ msw }) {
    mockPresenceApi(msw, rejectPresence(401, 'Invalid or expired token'));
  },
};

export const SlowServer: Story = {
  args: {
    scenario:
      'each response arrives after 2 s. Pick statuses quickly: only the newest one is sent after the request in flight.',
  },
  beforeEach({ msw }) {
    mockPresenceApi(msw, acceptPresence({ delayMs: 2000 }));
  },
};

export const AutoAway: Story = {
  args: {
    scenario:
      'every request succeeds. Keep the pointer still for 5 s, or switch to another tab for 3 s, to go away. Input brings you back, and so does switching back to this tab, because the window gets focus.',
    idleTimeout: 5000,
    hiddenTimeout: 3000,
  },
  beforeEach({ msw }) {
    mockPresenceApi(msw, acceptPresence());
  },
};
