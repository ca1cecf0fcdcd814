/** @jest-config-loader esbuild-register */
/**
 * The fixture suites from the sources against another nock: `NOCK_UNDER_TEST=/abs/.../node_modules/nock` is mapped in
 * for every `nock` import (the tests' and the fixtures' alike), and `NOCK_EXPECTED_VERSION` is checked against what
 * loaded. Run by scripts/test-consumers.mjs with the CommonJS nocks of the peer range (13.5 and 14, floors and newest).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { Config } from 'jest';

import base from '../jest.config';

const dir = process.env.NOCK_UNDER_TEST;
if (dir === undefined || dir === '') throw new Error('NOCK_UNDER_TEST must name a node_modules/nock directory');
const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
if (process.env.NOCK_EXPECTED_VERSION !== undefined && version !== process.env.NOCK_EXPECTED_VERSION) {
  throw new Error(`${dir} holds nock ${version}, not ${process.env.NOCK_EXPECTED_VERSION}`);
}

const config: Config = {
  ...base,
  rootDir: path.resolve(__dirname, '..'),
  testMatch: ['**/__tests__/testing-nock.test.ts', '**/__tests__/readme.test.ts'],
  moduleNameMapper: { '^nock$': dir, ...base.moduleNameMapper },
};

export default config;
