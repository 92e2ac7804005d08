/**
 * Set by the emulator's realtime server on its permission callbacks to the site, so that test
 * controls meant for the product's REST calls (the latency profile) leave them alone. Frappe's
 * socketio process sends no such header; the emulator's HTTP side only reads it for its controls.
 */
export const REALTIME_CALLBACK_HEADER = 'x-emulator-realtime-callback';
