// What the browser test files share: the server binary on a loopback port over a fresh data
// folder, a fresh browser profile, the watch for requests to other hosts and console errors,
// and numbered screenshots into E2E_SCREENSHOTS.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BINARY = process.env.FLOWGATE_BIN;
export const SHOTS = process.env.E2E_SCREENSHOTS || path.join(os.tmpdir(), 'flowgate-e2e-screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const EMAIL = 'owner@example.com';
export const PASSWORD = 'Owner-Passw0rd';
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

if (!BINARY) throw new Error('FLOWGATE_BIN must name the flowgate binary (e2e/run.sh sets it)');

export const cleanups = [];

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts the binary on a free port over a fresh SQLite folder; resolves once it is ready. */
export async function startServer(extraEnv = {}) {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'flowgate-e2e-'));
  const port = await freePort();
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('N8N_') || name.startsWith('DB_') || name === 'DATABASE_URL') delete env[name];
  }
  Object.assign(env, {
    N8N_PORT: String(port),
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_USER_FOLDER: folder,
    N8N_SECURE_COOKIE: 'false',
    N8N_LOG_LEVEL: 'warn',
    ...extraEnv,
  });
  const child = spawn(BINARY, [], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await rm(folder, { recursive: true, force: true });
  });
  const origin = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 300; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`flowgate exited with ${child.exitCode}`);
    try {
      const response = await fetch(`${origin}/healthz/readiness`);
      if (response.ok) return origin;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('flowgate did not become ready within 30 seconds');
}

/** A fresh browser profile, as a new user's browser would be. */
export async function openBrowser() {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'flowgate-e2e-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: DESKTOP,
    permissions: ['clipboard-read', 'clipboard-write'],
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  cleanups.push(async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  });
  context.setDefaultTimeout(10_000);
  return context;
}

/** Records what the page must never do: load from elsewhere, break the CSP, throw. */
export function watch(page, origin) {
  const problems = [];
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith('data:')) problems.push(`request to ${url}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 40[0-9]/.test(message.text())) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return problems;
}

let shot = 0;
/** File names start with this (one per test file), then a running number. */
export const shotPrefix = { value: '' };
export async function screenshot(page, name) {
  shot += 1;
  const file = path.join(SHOTS, `${shotPrefix.value}${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
}

export async function api(origin, method, apiPath, key) {
  const response = await fetch(`${origin}/api/v1${apiPath}`, { method, headers: { 'X-N8N-API-KEY': key } });
  return response.status;
}


/** Runs every cleanup registered so far, newest first. */
export async function cleanUp() {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error(error);
    }
  }
  cleanups.length = 0;
}
