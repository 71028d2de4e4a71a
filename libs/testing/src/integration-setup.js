/* global jest */
// Integration tests drive real servers (and restart some): generous per-test bound, still finite.
jest.setTimeout(180000);
