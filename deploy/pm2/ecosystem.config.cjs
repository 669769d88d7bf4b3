/**
 * PM2 on a VPS: two watch room server processes on one Redis, behind nginx
 * (deploy/nginx/watch-room.conf, whose upstream lists ports 3001 and 3002).
 *
 *   npm ci && npm run build          # dist/main.js
 *   echo "AUTH_KEY=$(openssl rand -base64 24)" >> .env   # and ALLOWED_ORIGINS=https://tv.example.com
 *   pm2 start deploy/pm2/ecosystem.config.cjs && pm2 save && pm2 startup
 *
 * The server reads `.env` from its working directory (the repository root, `cwd` below); the
 * variables set here win over it. Keep the key in `.env` (mode 600), not in this file.
 *
 * Fork mode, one port per process, on purpose: PM2's cluster mode shares one port between its
 * workers and hands each new TCP connection to any of them, so Socket.IO's HTTP long-polling
 * (each poll a new request that must reach the process holding the session) breaks without sticky
 * sessions. nginx's `hash $remote_addr consistent` provides them across these ports.
 *
 * One process, rooms in memory, no Redis: keep only the first app and remove REDIS_URL (nginx's
 * upstream then lists only 127.0.0.1:3001).
 *
 * Rolling restart: `pm2 restart watch-room-1`, wait until `curl -fsS localhost:3001/ready`
 * answers and a few seconds more, then `pm2 restart watch-room-2`. PM2 stops a process with
 * SIGINT, then SIGKILL after kill_timeout; the server exits 0 within SHUTDOWN_TIMEOUT_MS (8 s).
 */
const path = require('node:path');

const root = path.resolve(__dirname, '../..');

/** Settings shared by both processes (see .env.example for every variable). */
const shared = {
  NODE_ENV: 'production',
  HOST: '127.0.0.1', // only nginx, on this host, reaches the processes
  REDIS_URL: 'redis://127.0.0.1:6379/0',
  TRUST_PROXY: 'loopback', // nginx connects from 127.0.0.1 (or ::1)
};

const app = (n, port) => ({
  name: `watch-room-${n}`,
  cwd: root,
  script: 'dist/main.js',
  exec_mode: 'fork',
  instances: 1,
  kill_timeout: 15000,
  // V8 collects before PM2's restart threshold is near: left to itself, on a large VPS it lets the
  // heap grow far past what the server needs (README "Deploy", *Memory*). Keep the two in step:
  // the heap cap about three quarters of max_memory_restart.
  node_args: ['--max-old-space-size=768'],
  max_memory_restart: '1G',
  env: { ...shared, PORT: String(port), INSTANCE_ID: `watch-room-${n}` },
});

module.exports = {
  apps: [app(1, 3001), app(2, 3002)],
};
