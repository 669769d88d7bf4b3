/**
 * Playback sync (PROTOCOL §5.5-§5.8, §6): the owner's PlayState is stored and relayed to-others,
 * members may play/pause/seek under shared control, and nothing else gets through.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { closeAll, connect, expectNone, joinRoom, Recorder, waitFor, type Client, chatMarker, ownerAndMember } from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

type State = Record<string, unknown> & { currentTime: number; isPlaying: boolean };

/** A PlayState as MoonTVPlus sends it (§3): `episode` is 1-based, `videoId` a string. */
const playState = (over: Record<string, unknown> = {}) => ({
  type: 'play',
  url: 'https://cdn.example.com/v/santi/ep1.m3u8',
  currentTime: 12.5,
  isPlaying: false,
  videoId: 'abc123',
  videoName: '三体',
  videoYear: '2023',
  searchTitle: '三体',
  episode: 1,
  source: 'heimuer',
  ...over,
});

/** The room's stored state as a socket joining now sees it (§6). */
async function joinerState(url: string, roomId: string): Promise<State | null> {
  const s = await connect(url);
  const r = await joinRoom(s, { roomId, userName: 'late' });
  assert.equal(r.success, true);
  return r.room.currentState as State | null;
}

/** A chat message from `from`, which must reach `to` by the room path (the marker of expectNone). */
/** Waits until the wall clock has moved past `t` (so "advanced" is observable), not a fixed sleep. */
async function clockPast(t: number): Promise<void> {
  while (Date.now() <= t) await new Promise((r) => setTimeout(r, 1));
}

describe('playback (PROTOCOL §5.5-§5.8)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ MAX_ROOMS_PER_IP: '1000' })));
  after(() => srv.close());
  afterEach(closeAll);

  for (const event of ['play:update', 'play:change'] as const) {
    it(`${event} from the owner is stored and relayed to-others, not echoed (§5.5, §5.6)`, async () => {
      const { owner, member, room } = await ownerAndMember(srv.url);
      const state = playState({ currentTime: 33.25 });
      const got = waitFor(member, event);
      await expectNone(owner, event, () => void owner.emit(event, state), chatMarker(owner, 'marker'));
      assert.deepEqual(await got, state);
      assert.deepEqual(await joinerState(srv.url, room.id), state); // paused: not advanced
    });
  }

  it('a playing state is advanced to "now" for a later joiner (§6)', async () => {
    const { owner, member, room } = await ownerAndMember(srv.url);
    const t0 = Date.now();
    const got = waitFor(member, 'play:change');
    owner.emit('play:change', playState({ currentTime: 100, isPlaying: true }));
    await got;
    await clockPast(t0 + 20);
    const s = await joinerState(srv.url, room.id);
    const elapsed = (Date.now() - t0) / 1000;
    assert.ok(s);
    assert.equal(s.isPlaying, true);
    assert.ok(s.currentTime > 100, `currentTime ${s.currentTime} should be advanced past 100`);
    assert.ok(s.currentTime <= 100 + elapsed + 0.01, `currentTime ${s.currentTime} advanced more than ${elapsed}s`);
  });

  it('play:update / play:change from a non-owner are not relayed nor stored (§5.5, §5.6)', async () => {
    const { owner, member, room } = await ownerAndMember(srv.url);
    for (const event of ['play:update', 'play:change']) {
      await expectNone(owner, event, () => void member.emit(event, playState()), chatMarker(member, `m-${event}`));
    }
    assert.equal(await joinerState(srv.url, room.id), null);
  });

  it('play:play / play:pause from a member go to-others and isPlaying follows (§5.7, shared default)', async () => {
    const { owner, member, room } = await ownerAndMember(srv.url);
    const third = await connect(srv.url);
    const joined = waitFor(member, 'room:member-joined');
    await joinRoom(third, { roomId: room.id, userName: 'third' });
    await joined;
    const changed = waitFor(member, 'play:change');
    owner.emit('play:change', playState({ currentTime: 50, isPlaying: false }));
    await changed;

    const ownerPlay = waitFor(owner, 'play:play');
    const thirdPlay = waitFor(third, 'play:play');
    await expectNone(member, 'play:play', () => void member.emit('play:play'), chatMarker(member, 'after-play'));
    await Promise.all([ownerPlay, thirdPlay]);
    const playing = await joinerState(srv.url, room.id);
    assert.equal(playing?.isPlaying, true);
    assert.ok(playing.currentTime >= 50);

    const ownerPause = waitFor(owner, 'play:pause');
    await expectNone(member, 'play:pause', () => void member.emit('play:pause'), chatMarker(member, 'after-pause'));
    await ownerPause;
    const paused = await joinerState(srv.url, room.id);
    assert.equal(paused?.isPlaying, false);
    assert.ok(paused.currentTime >= playing.currentTime);
    // Paused: the position is frozen for every later joiner.
    assert.equal((await joinerState(srv.url, room.id))?.currentTime, paused.currentTime);
  });

  it('play:seek from a member is relayed as a bare number and stored as currentTime (§5.8)', async () => {
    const { owner, member, room } = await ownerAndMember(srv.url);
    const changed = waitFor(member, 'play:change');
    owner.emit('play:change', playState({ currentTime: 10, isPlaying: false }));
    await changed;
    const got = waitFor(owner, 'play:seek');
    await expectNone(member, 'play:seek', () => void member.emit('play:seek', 42.5), chatMarker(member, 'sought'));
    assert.equal(await got, 42.5);
    const s = await joinerState(srv.url, room.id);
    assert.equal(s?.currentTime, 42.5);
    assert.equal(s.isPlaying, false);
  });

  it('an invalid seek (negative, string, null, none) is dropped (§5, §5.8)', async () => {
    const { owner, member, room } = await ownerAndMember(srv.url);
    const changed = waitFor(member, 'play:change');
    owner.emit('play:change', playState({ currentTime: 10 }));
    await changed;
    const rec = new Recorder(owner);
    for (const bad of [-1, '20', null, { t: 5 }]) member.emit('play:seek', bad);
    member.emit('play:seek');
    const marker = waitFor(owner, 'play:seek', (p) => p === 7);
    member.emit('play:seek', 7);
    await marker;
    rec.stop();
    assert.deepEqual(rec.payloads('play:seek'), [7]);
    assert.equal((await joinerState(srv.url, room.id))?.currentTime, 7);
  });

  it("accepts videoYear:'' and searchTitle:'' (§3) and relays them as sent", async () => {
    const { owner, member, room } = await ownerAndMember(srv.url);
    const state = playState({ videoYear: '', searchTitle: '' });
    const got = waitFor(member, 'play:change');
    owner.emit('play:change', state);
    assert.deepEqual(await got, state);
    assert.deepEqual(await joinerState(srv.url, room.id), state);
  });

  it('null optional fields are accepted as absent (§5)', async () => {
    const { owner, member } = await ownerAndMember(srv.url);
    const got = waitFor<Record<string, unknown>>(member, 'play:update');
    owner.emit('play:update', playState({ videoYear: null, searchTitle: null, episode: null, currentTime: 3 }));
    const p = await got;
    assert.equal(p.currentTime, 3);
    assert.equal(p.videoId, 'abc123');
    for (const k of ['videoYear', 'searchTitle', 'episode']) assert.equal(p[k] ?? null, null, k);
  });

  it('unknown extra fields are kept and relayed (§5)', async () => {
    const { owner, member, room } = await ownerAndMember(srv.url);
    const state = playState({ subtitleUrl: 'https://x/y.vtt', extra: { quality: '1080p', tags: ['a', 1] } });
    const got = waitFor(member, 'play:update');
    owner.emit('play:update', state);
    assert.deepEqual(await got, state);
    assert.deepEqual(await joinerState(srv.url, room.id), state);
  });

  it("a room created with playbackControl:'owner' drops a member's play/pause/seek, the owner's pass", async () => {
    const { owner, member, room } = await ownerAndMember(srv.url, { playbackControl: 'owner' });
    await ownerOnlyControl(srv.url, owner, member, room.id);
  });
});

describe('playback with PLAYBACK_CONTROL=owner (§5.7, §5.8 owner-only policy)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ PLAYBACK_CONTROL: 'owner' })));
  after(() => srv.close());
  afterEach(closeAll);

  it("drops a member's play/pause/seek, the owner's pass", async () => {
    const { owner, member, room } = await ownerAndMember(srv.url);
    await ownerOnlyControl(srv.url, owner, member, room.id);
  });
});

async function ownerOnlyControl(url: string, owner: Client, member: Client, roomId: string): Promise<void> {
  const changed = waitFor(member, 'play:change');
  owner.emit('play:change', playState({ currentTime: 10, isPlaying: false }));
  await changed;
  const rec = new Recorder(owner);
  await expectNone(
    owner,
    'play:play',
    () => {
      member.emit('play:play');
      member.emit('play:seek', 99);
      member.emit('play:pause');
    },
    chatMarker(member, 'member-done'),
  );
  rec.stop();
  assert.equal(rec.count('play:seek') + rec.count('play:pause'), 0);
  const s = await joinerState(url, roomId);
  assert.equal(s?.isPlaying, false);
  assert.equal(s.currentTime, 10);

  const play = waitFor(member, 'play:play');
  owner.emit('play:play');
  await play;
  const seekTo = waitFor(member, 'play:seek');
  owner.emit('play:seek', 20);
  assert.equal(await seekTo, 20);
  const pause = waitFor(member, 'play:pause');
  owner.emit('play:pause');
  await pause;
  const after = await joinerState(url, roomId);
  assert.equal(after?.isPlaying, false);
  assert.ok(after.currentTime >= 20);
}
