/**
 * Passwords of 12 characters or more that appear near the top of public breach corpora (and the patterns they
 * follow). Refused beside the length rule: a long password that everyone tries first protects nothing.
 */
const COMMON = `
123456789012 1234567890123 12345678901234 123456789123 1234567891011 111111111111 000000000000
123123123123 121212121212 987654321098 qwertyuiopas qwertyuiop123 qwertyuiop1234 1qaz2wsx3edc
1q2w3e4r5t6y 1q2w3e4r5t6y7u 1qazxsw23edc zaq12wsxcde3 asdfghjkl123 asdfghjkl;'# zxcvbnm12345
qwerty123456 qwerty1234567 password1234 password12345 password123456 password1234! passw0rd1234
p@ssw0rd1234 p@ssword1234 password@123 password!123 passwordpassword iloveyou1234 iloveyou123456
letmein12345 welcome12345 welcome123456 welcome@1234 administrator admin1234567 adminadmin123
administrator1 changeme1234 changeme123456 trustno11234 football1234 baseball1234 superman1234
princess1234 sunshine1234 monkey123456 dragon123456 starwars1234 whatever1234 abcdefghijkl
abcdef123456 abc123456789 abcd12345678 aaaaaaaaaaaa qwertyqwerty 123qweasdzxc qazwsxedcrfv
mypassword123 mypassword1234 secret123456 mysecret1234 opensesame12 kaitiaki1234 kaitiaki12345
moderator123 moderator1234 correcthorsebatterystaple 1234567890qwerty qwerty1234567890
`;

const LIST: ReadonlySet<string> = new Set(COMMON.split(/\s+/).filter(Boolean));

/** True when the password is on the list or is one character (or a short run) repeated. */
export function isCommonPassword(password: string): boolean {
  const lower = password.toLowerCase();
  if (LIST.has(lower)) return true;
  if (/^(.{1,4})\1+$/.test(lower)) return true; // "abcabcabcabc", "aaaaaaaaaaaa"
  return false;
}
