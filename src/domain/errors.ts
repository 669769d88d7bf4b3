/**
 * Expected failures are values with stable codes (PROTOCOL §3). The `error` string is what the
 * MoonTVPlus client shows to people; the `code` travels beside it for machines.
 */
export const ErrorCode = {
  room_not_found: '房间不存在',
  wrong_password: '密码错误',
  too_many_attempts: '尝试次数过多，请稍后再试',
  rate_limited: '操作过于频繁，请稍后再试',
  invalid_payload: '请求参数无效',
  room_full: '房间已满',
  too_many_rooms: '房间数量已达上限',
  owner_check_failed: '房主身份验证失败',
  not_in_room: '你不在房间中',
  not_owner: '只有房主可以执行此操作',
  internal: '服务器内部错误',
} as const;

export type ErrorCode = keyof typeof ErrorCode;

export interface Failure {
  ok: false;
  code: ErrorCode;
}

export const fail = (code: ErrorCode): Failure => ({ ok: false, code });

/** The failed-ack body of §3: `{ success: false, error, code }`. */
export function failureAck(code: ErrorCode): { success: false; error: string; code: ErrorCode } {
  return { success: false, error: ErrorCode[code], code };
}
