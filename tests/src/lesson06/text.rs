//! 别人说的一句话,到了收信人那里该是什么样(章节「限制」和「服务器发出的行」两节)。
//!
//! 规则是精确的:`[昵称] ` 后面就是他说的那一句,只做章节写明的几种替换——
//! 坏的 UTF-8 字节变成 `�`,制表符变成空格,控制字符(Unicode 的 Cc 类)和看不见的格式字符
//! (Cf 类、行分隔符 Zl、段分隔符 Zp)变成 `�`。章节留给实现的余地只有两处,比较时都让开:
//! - 一句话两头的空白可以去掉(一头或两头),也可以保留;
//! - 一串坏字节变成几个 `�` 没有说死(`String::from_utf8_lossy` 把一个坏掉的序列换成一个,
//!   逐字节替换的写法每个字节换一个),所以连在一起的几个 `�` 算作一个。

/// 收信人那里该看到的文字(不含 `[昵称] `):按章节的规则清理过的 `bytes`。
pub(super) fn cleaned(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() || is_invisible_format(c) => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// 这句话要不要清理:有没有坏字节、制表符、控制字符或看不见的格式字符。
pub(super) fn needs_cleaning(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).map_or(true, |text| cleaned(bytes) != text)
}

/// `got`(收信人收到的一整行,不含换行)是不是 `nick` 说了 `bytes` 以后该有的样子。
pub(super) fn is_said(got: &str, nick: &str, bytes: &[u8]) -> bool {
    let Some(text) = got.strip_prefix(&format!("[{nick}] ")) else {
        return false;
    };
    // 两头的空白,去掉哪一头都行;可以在清理之前去,也可以在清理之后去:U+2029 这样的字符
    // 既是空白,又要换成 �。
    let lossy = String::from_utf8_lossy(bytes);
    let cleaned_first = cleaned(bytes);
    let trimmed_first =
        [lossy.trim(), lossy.trim_start(), lossy.trim_end()].map(|text| cleaned(text.as_bytes()));
    let got = one_mark_per_run(text);
    [
        cleaned_first.as_str(),
        cleaned_first.trim(),
        cleaned_first.trim_start(),
        cleaned_first.trim_end(),
    ]
    .into_iter()
    .chain(trimmed_first.iter().map(String::as_str))
    .any(|want| one_mark_per_run(want) == got)
}

/// 把连在一起的几个 `�` 并成一个。
fn one_mark_per_run(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if !(c == '\u{FFFD}' && out.ends_with('\u{FFFD}')) {
            out.push(c);
        }
    }
    out
}

/// 行里有没有会被终端当成控制指令的字符(换行已经去掉了)。
pub(super) fn has_control(line: &str) -> bool {
    line.chars().any(char::is_control)
}

/// Unicode 的格式字符(Cf)、行分隔符(Zl)和段分隔符(Zp):看不见,却能改变一行的样子。
pub(super) fn is_invisible_format(c: char) -> bool {
    const RANGES: [(u32, u32); 21] = [
        (0x00AD, 0x00AD),
        (0x0600, 0x0605),
        (0x061C, 0x061C),
        (0x06DD, 0x06DD),
        (0x070F, 0x070F),
        (0x0890, 0x0891),
        (0x08E2, 0x08E2),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x2028, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x206F),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x1343F),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001),
        (0xE0020, 0xE007F),
    ];
    RANGES
        .iter()
        .any(|&(low, high)| (low..=high).contains(&(c as u32)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (说的字节, 收到的一行, 对不对)。
    const TABLE: &[(&[u8], &str, bool)] = &[
        ("你好".as_bytes(), "[a] 你好", true),
        ("你好".as_bytes(), "[a]你好", false),
        ("你好".as_bytes(), "a: 你好", false),
        ("你好".as_bytes(), "[a] 你好 ", false),
        // 两头的空白:去掉、保留都行;中间的不能动。
        ("  两头  ".as_bytes(), "[a]   两头  ", true),
        ("  两头  ".as_bytes(), "[a] 两头", true),
        ("  两头  ".as_bytes(), "[a]   两头", true),
        ("  两头  ".as_bytes(), "[a] 两头  ", true),
        ("  两头  ".as_bytes(), "[a]  两头", false),
        ("  两头  ".as_bytes(), "[a] 两头 ", false),
        ("中 间".as_bytes(), "[a] 中间", false),
        // 制表符换成空格。
        ("\t表\t".as_bytes(), "[a]  表 ", true),
        ("\t表\t".as_bytes(), "[a] 表", true),
        ("\t表\t".as_bytes(), "[a] \t表\t", false),
        // 控制字符换成 �,不是删掉,也不是原样。
        ("\u{1b}[2J红".as_bytes(), "[a] �[2J红", true),
        ("\u{1b}[2J红".as_bytes(), "[a] [2J红", false),
        ("\u{1b}[2J红".as_bytes(), "[a] \u{1b}[2J红", false),
        ("回车\r在中间".as_bytes(), "[a] 回车�在中间", true),
        // 看不见的格式字符也换成 �。
        ("a\u{202e}b".as_bytes(), "[a] a�b", true),
        ("a\u{202e}b".as_bytes(), "[a] a\u{202e}b", false),
        // 行尾的段分隔符既是空白又是格式字符:先去空白就没了,先清理就是 �。
        ("假的\u{2029}".as_bytes(), "[a] 假的", true),
        ("假的\u{2029}".as_bytes(), "[a] 假的�", true),
        ("假的\u{2029}".as_bytes(), "[a] 假的\u{2029}", false),
        // 坏字节:几个 � 都行,但不能没有,其余的字要原样。
        (b"\xe4\xbd ok", "[a] � ok", true),
        (b"\xe4\xbd ok", "[a] �� ok", true),
        (b"\xe4\xbd ok", "[a]  ok", false),
        (b"\xe4\xbd ok", "[a] � OK", false),
    ];

    #[test]
    fn a_line_is_said_exactly_up_to_what_the_chapter_leaves_open() {
        for &(bytes, got, right) in TABLE {
            assert_eq!(
                is_said(got, "a", bytes),
                right,
                "说 {:?},收到 {got:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn only_lines_that_change_need_cleaning() {
        assert!(!needs_cleaning("你好,世界 🦀".as_bytes()));
        assert!(!needs_cleaning("  两头  ".as_bytes()));
        assert!(needs_cleaning(b"\tx"));
        assert!(needs_cleaning(b"\xff"));
        assert!(needs_cleaning("a\u{200b}b".as_bytes()));
    }
}
