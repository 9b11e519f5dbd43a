/** Hand-picked hard cases for tokenizer agreement: accents, CJK (BMP and astral), emoji, control and format characters, odd whitespace, special-token text, long words. */
export const TORTURE: readonly string[] = [
  '', ' ', '\t\n\r', '\u0000', '\uFFFD', '\u200B\u200D\uFEFF', 'a\u0001b\u0007c\u001Fd\u007Fe', 'x\u000By\u000Cz', 'a\u0085b',
  'Héllo Wörld, ça va? Ångström naïve café résumé', 'ÀÉÎÕÜ àéîõü Ññ Çç ß ẞ Ĳ ĳ', 'e\u0301 a\u0308 o\u0302\u0323',
  'İstanbul ıi IŞIK', 'ΣΊΣΥΦΟΣ ΟΔΥΣΣΕΥΣ σς', 'Ǆǅǆ ǈ ﬁ ﬂ ﬃ', 'Ⅻ ⅻ ① ¹²³ ½',
  '日本語のテキスト、中文文本。한국어 텍스트', '北京大学 and 東京', '𠀀𠀁𪚲 𝟘𝟙 𝐀𝐁𝐂', '\u{2F800}\u{2F801}x', '豈更車',
  'emoji 😀😃🇫🇷 👨‍👩‍👧‍👦 ✊🏽 ❤️', '🙂hello🙂world', '\u{10100}word\u{10100}',
  'non\u00A0breaking\u2003em\u3000ideographic\u2028line\u2029para\u202Fnarrow\u205Fmath\u1680ogham',
  'punct: !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~ ¡¿«»„“”‘’–—…•·※', '$100 + 20% = <tag> a^b `code` x|y ~z',
  '[CLS] [SEP] [MASK] [PAD] [UNK] [cls] [Sep]x[SEP]y[[MASK]]', 'a[SEP]', '[SEP]', '[MASK][MASK]',
  'supercalifragilisticexpialidocious antidisestablishmentarianism', 'x'.repeat(100), 'y'.repeat(101), 'é'.repeat(100) + ' é'.repeat(3),
  `${'ab'.repeat(60)}!${'c'.repeat(99)}`, 'abc'.repeat(1000), 'https://example.com/path?q=1&r=2#frag user@example.org',
  'C++ C# .NET node.js 3.14159 1,000,000 12:30pm 2024-01-01', "don't won't it's y'all rock'n'roll",
  'Lorem\tipsum\ndolor\r\nsit   amet', 'العربية עברית हिन्दी ไทย ქართული Ελληνικά русский', 'ﬀ ﬅ ﹏ ＡＢＣ ａｂｃ １２３',
  'a\uD800b \uDC00c', '\u00AD soft\u00ADhyphen', 'Zalgo: Z̴̢̛a̷l̸g̵o̶', '\u0301leading mark',
];
