//! 给人看的文字:把字节转义得看得见,从一行输出里找出地址。

use std::net::SocketAddr;

/// 显示字节时最多显示这么多个字符,再多就用「…」省略。
const SHOW_CHARS: usize = 60;

/// 把字节显示成带引号的文字,看不见的字符和坏的 UTF-8 字节都转义出来,并注明长度。
///
/// `"你好,世界" (13 字节)`、`"\xff\xfehi" (4 字节)`、`"" (0 字节)`。
pub fn show_bytes(bytes: &[u8]) -> String {
    let mut shown = String::new();
    let mut chars = 0;
    'chunks: for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if chars == SHOW_CHARS {
                shown.push('…');
                break 'chunks;
            }
            shown.extend(c.escape_debug());
            chars += 1;
        }
        for b in chunk.invalid() {
            if chars == SHOW_CHARS {
                shown.push('…');
                break 'chunks;
            }
            shown.push_str(&format!("\\x{b:02x}"));
            chars += 1;
        }
    }
    match bytes.len() {
        0 => "\"\" (0 字节)".to_owned(),
        n => format!("\"{shown}\" ({n} 字节)"),
    }
}

/// 会让终端做点什么(换行、回到行首、变色、移动光标、反转文字方向)的字符。
///
/// 控制字符(Cc),以及 Unicode 里看不见、却能改变显示的格式字符和分隔符
/// (零宽字符、双向文字控制符 U+202A–U+202E / U+2066–U+2069、行分隔符 U+2028、段分隔符 U+2029)。
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// 把一行文字里看不见的字符转义成看得见的样子:ESC 显示为 `\x1b`,回车为 `\r`,
/// U+202E 显示为 `\u{202e}`。制表符照原样保留。
///
/// 程序自己的输出、收到的每一行都先经过它,才会出现在学员的终端上:一个带颜色代码
/// 或光标控制的输出,原样打出来会把失败信息本身搞乱(变色、覆盖上一行)。
pub fn visible(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\t' => shown.push('\t'),
            '\n' => shown.push_str("\\n"),
            '\r' => shown.push_str("\\r"),
            '\0' => shown.push_str("\\0"),
            c if c.is_ascii_control() => shown.push_str(&format!("\\x{:02x}", c as u32)),
            c if is_invisible(c) => shown.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => shown.push(c),
        }
    }
    shown
}

/// 去掉 ANSI 转义序列(颜色、光标移动):`\x1b[32m你好\x1b[0m` → `你好`。
///
/// 用来判断「要找的文字其实在,只是被颜色代码包住了」。
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            // CSI:ESC [ 参数… 结束字母(@ 到 ~)。
            Some('[') => {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // OSC:ESC ] … 以 BEL 或 ESC \ 结束。
            Some(']') => {
                chars.next();
                while let Some(c) = chars.next() {
                    if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                        break;
                    }
                }
            }
            // 其余的两字符序列(ESC c、ESC 7 …)。
            Some(_) => {
                chars.next();
            }
            None => {}
        }
    }
    out
}

/// 在一行文字里找出第一个套接字地址:`127.0.0.1:40000` 或 `[::1]:40000`。
///
/// 地址前后写什么都行(中英文、括号、引号、句末的标点),所以学员的提示语怎么写都可以。
/// IPv4 是四段十进制数加冒号和端口;IPv6 是 Rust 打印 `SocketAddr` 的样子,方括号里是地址。
/// 找不到时返回 None:只有这一行里真的没有地址时才会这样。
pub fn find_socket_addr(line: &str) -> Option<SocketAddr> {
    (0..line.len())
        .filter(|&i| line.is_char_boundary(i))
        .find_map(|i| addr_at(&line[i..], line[..i].chars().next_back()))
}

/// 以 `rest` 开头的地址(如果有);`before` 是它前面的一个字符。
fn addr_at(rest: &str, before: Option<char>) -> Option<SocketAddr> {
    let candidate = if rest.starts_with('[') {
        // [IPv6]:端口。方括号里只有十六进制数字、冒号、点和 %(作用域编号)。
        let close = rest.find(']')?;
        let inside = &rest[1..close];
        let ok = !inside.is_empty()
            && inside.contains(':')
            && inside
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '%'));
        if !ok {
            return None;
        }
        let port = port_digits(rest[close + 1..].strip_prefix(':')?)?;
        &rest[..close + 2 + port]
    } else {
        // IPv4:前面不能紧挨着数字(否则是某个更长的数的一部分),由四段数字、三个点组成。
        if !rest.starts_with(|c: char| c.is_ascii_digit())
            || before.is_some_and(|c| c.is_ascii_digit())
        {
            return None;
        }
        let ip_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let ip = &rest[..ip_len];
        if ip.split('.').count() != 4 {
            return None;
        }
        let port = port_digits(rest[ip_len..].strip_prefix(':')?)?;
        &rest[..ip_len + 1 + port]
    };
    candidate.parse().ok()
}

/// 端口:开头连续的 1 到 5 个数字,后面不能再紧跟数字。返回数字的个数。
fn port_digits(text: &str) -> Option<usize> {
    let n = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    (1..=5).contains(&n).then_some(n)
}

/// 把多行文字缩进,空文字显示为「(空)」。
pub fn indent(text: &str, prefix: &str) -> String {
    if text.trim().is_empty() {
        return format!("{prefix}(空)");
    }
    text.trim_matches(['\n', '\r'])
        .trim_end()
        .lines()
        .map(|line| format!("{prefix}{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// 显示收到的一行文字:看不见的字符(比如 ESC)转义出来,太长的只显示开头。
pub fn show_text(line: &str) -> String {
    let mut shown = String::new();
    for (i, c) in line.chars().enumerate() {
        if i == SHOW_CHARS {
            shown.push('…');
            break;
        }
        shown.push_str(&visible(c.encode_utf8(&mut [0; 4])));
    }
    shown
}

/// 程序把一段文字打印出来了没有,打印得对不对(见 [`find_printed`])。
#[derive(Debug, PartialEq, Eq)]
pub enum Printed {
    /// 文字恰好占到一行的末尾:后面紧跟着换行(或者输出到此为止),换行后面不是一个空行。
    Exactly,
    /// 文字在,但后面多了东西:同一行里多出来的字节(比如缓冲区里的 `\0`、没去掉的 `\r`),
    /// 或者多出来的一个空行(没去掉的换行又被 println! 加了一个)。给出多出来的部分。
    WithExtra(String),
    /// 打印了,但前后的空白(空格、制表符)被去掉了:多半是用了 trim。
    Trimmed,
    /// 只打印了开头的一部分:给出打印出来的字符数。
    Partly(usize),
    /// 没有打印。
    Missing,
}

/// 在程序的 stdout 里找 `text`。规则是「恰好」:同一行里 `text` 前面可以有任何说明
/// (比如「服务器回复: 」),后面就不能再有别的字节;`text` 之后是这一行的换行,
/// 而且不能再多一个空行。
pub fn find_printed(stdout: &str, text: &str) -> Printed {
    let mut first_extra = None;
    for (at, _) in stdout.match_indices(text) {
        let after = &stdout[at + text.len()..];
        let line_rest = after.split('\n').next().unwrap_or_default();
        let blank_line_follows = after.starts_with("\n\n") || after.starts_with("\n\r\n");
        if line_rest.is_empty() && !blank_line_follows {
            return Printed::Exactly;
        }
        first_extra.get_or_insert_with(|| {
            if line_rest.is_empty() {
                "\n".to_owned()
            } else {
                line_rest.to_owned()
            }
        });
    }
    if let Some(extra) = first_extra {
        return Printed::WithExtra(extra);
    }
    if text.is_empty() {
        return Printed::Missing;
    }
    let trimmed = text.trim();
    if trimmed != text && !trimmed.is_empty() && find_printed(stdout, trimmed) == Printed::Exactly {
        return Printed::Trimmed;
    }
    // 最长的、出现在输出里的开头部分:截断的回复。
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let longest = (1..chars.len())
        .rev()
        .find(|&n| stdout.contains(&text[..chars[n].0]))
        .unwrap_or(0);
    // 只对上一两个字可能是巧合;对上一半(或者 4 个字以上)才算是「打印了一部分」。
    if longest > 0 && longest >= 4.min(chars.len() / 2) {
        Printed::Partly(longest)
    } else {
        Printed::Missing
    }
}

/// 一句说明提到超时了吗:写了「超时」「时限」「timeout」「timed out」,写了「秒」,
/// 或者写出了等了多久(`secs` 秒:「1s」「1 s」「1000 毫秒」「1000ms」)。
///
/// 这是第 2 课和第 5 课「等不到回复时说清原因」的规则,课本里也是这么写的。
pub fn mentions_timeout(text: &str, secs: u64) -> bool {
    let lower = text.to_lowercase();
    let words = ["超时", "时限", "秒", "timeout", "time out", "timed out"];
    let millis = secs * 1000;
    let lengths = [
        format!("{secs}s"),
        format!("{secs} s"),
        format!("{secs}sec"),
        format!("{secs} sec"),
        format!("{millis}ms"),
        format!("{millis} ms"),
        format!("{millis}毫秒"),
        format!("{millis} 毫秒"),
    ];
    words.iter().any(|w| lower.contains(w))
        || lengths.iter().any(|l| {
            lower.match_indices(l.as_str()).any(|(at, _)| {
                // 「1s」不能是「11s」或「1st」的一部分。
                let before_ok = !lower[..at].ends_with(|c: char| c.is_ascii_digit());
                let after_ok =
                    !lower[at + l.len()..].starts_with(|c: char| c.is_ascii_alphanumeric());
                before_ok && after_ok
            })
        })
}

/// 把字节写成 Python 的字节串字面量,可以直接放进 shell 的双引号里:
/// 除了 ASCII 字母和数字,一律写成 `\xNN`(引号、反斜杠、`$` 都不会被 shell 误会)。
///
/// 失败信息里「手动重现」的 Python 一行命令用它,任何字节都能原样发出去。
pub fn python_bytes(bytes: &[u8]) -> String {
    let mut out = String::from("b'");
    for &b in bytes {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('\'');
    out
}

/// 把一个命令行参数写成可以直接粘贴进 shell(bash、zsh)的样子:普通的文字用单引号括起来,
/// 含控制字符的用 `$'…'`(控制字符写成 `\xNN`),这样「手动重现」的命令照抄就能用。
pub fn shell_quote(arg: &str) -> String {
    if arg.chars().any(is_invisible) {
        let mut out = String::from("$'");
        for c in arg.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\'' => out.push_str("\\'"),
                c if is_invisible(c) => {
                    for b in c.to_string().bytes() {
                        out.push_str(&format!("\\x{b:02x}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('\'');
        out
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_text_invalid_bytes_and_control_characters() {
        assert_eq!(
            show_bytes("你好,世界".as_bytes()),
            "\"你好,世界\" (13 字节)"
        );
        assert_eq!(show_bytes(b"\xff\xfehi\n"), "\"\\xff\\xfehi\\n\" (5 字节)");
        assert_eq!(show_bytes(b""), "\"\" (0 字节)");
    }

    #[test]
    fn shortens_long_payloads_but_keeps_their_length() {
        let shown = show_bytes(&[b'a'; 8000]);
        assert!(shown.ends_with("…\" (8000 字节)"), "{shown}");
    }

    #[test]
    fn makes_every_invisible_character_visible() {
        assert_eq!(
            visible("\u{1b}[32m[小明] 你好\u{1b}[0m"),
            "\\x1b[32m[小明] 你好\\x1b[0m"
        );
        assert_eq!(visible("a\rb\0c\u{7}\td"), "a\\rb\\0c\\x07\td");
        assert_eq!(visible("x\u{202e}y\u{200b}z"), "x\\u{202e}y\\u{200b}z");
        assert_eq!(visible("第一行\n第二行"), "第一行\\n第二行");
        assert_eq!(show_text("\u{1b}[2J清屏"), "\\x1b[2J清屏");
    }

    #[test]
    fn strips_colours_and_cursor_movement() {
        assert_eq!(
            strip_ansi("\u{1b}[1;32m[小明]\u{1b}[0m 你好"),
            "[小明] 你好"
        );
        assert_eq!(strip_ansi("\u{1b}[2K\r> "), "\r> ");
        assert_eq!(strip_ansi("\u{1b}]0;标题\u{7}正文"), "正文");
        assert_eq!(strip_ansi("没有颜色"), "没有颜色");
    }

    /// 第一行输出的各种写法:左边是程序打印的一行,右边是评分器应该找到的地址。
    #[test]
    fn finds_the_address_in_every_reasonable_sentence() {
        let table: &[(&str, Option<&str>)] = &[
            // 英文,句末各种标点。
            (
                "UDP echo server listening on 127.0.0.1:45297.",
                Some("127.0.0.1:45297"),
            ),
            ("listening on 127.0.0.1:45297", Some("127.0.0.1:45297")),
            ("Listening on 127.0.0.1:45297...", Some("127.0.0.1:45297")),
            ("bound to 127.0.0.1:45297, waiting", Some("127.0.0.1:45297")),
            ("bound to 127.0.0.1:45297; waiting", Some("127.0.0.1:45297")),
            ("address: 127.0.0.1:45297:", Some("127.0.0.1:45297")),
            ("server (127.0.0.1:45297) is up", Some("127.0.0.1:45297")),
            ("server [127.0.0.1:45297] is up", Some("127.0.0.1:45297")),
            ("server '127.0.0.1:45297' is up", Some("127.0.0.1:45297")),
            ("server \"127.0.0.1:45297\" is up", Some("127.0.0.1:45297")),
            ("at http://127.0.0.1:45297/", Some("127.0.0.1:45297")),
            ("127.0.0.1:45297", Some("127.0.0.1:45297")),
            ("waiting…127.0.0.1:45297…", Some("127.0.0.1:45297")),
            ("\t127.0.0.1:45297\t", Some("127.0.0.1:45297")),
            // 中文,全角标点和引号。
            ("正在监听 127.0.0.1:40000", Some("127.0.0.1:40000")),
            ("地址:127.0.0.1:40000。", Some("127.0.0.1:40000")),
            (
                "服务器已启动,正在监听127.0.0.1:40000,请发送数据",
                Some("127.0.0.1:40000"),
            ),
            ("监听地址:127.0.0.1:40000:等待中", Some("127.0.0.1:40000")),
            ("服务器(127.0.0.1:40000)已启动", Some("127.0.0.1:40000")),
            ("服务器「127.0.0.1:40000」已启动", Some("127.0.0.1:40000")),
            ("服务器“127.0.0.1:40000”已启动", Some("127.0.0.1:40000")),
            ("服务器【127.0.0.1:40000】已启动", Some("127.0.0.1:40000")),
            ("监听中...127.0.0.1:40000", Some("127.0.0.1:40000")),
            // IPv6,Rust 打印 SocketAddr 的样子。
            ("监听 [::1]:7852", Some("[::1]:7852")),
            ("listening on [::1]:7852.", Some("[::1]:7852")),
            ("服务器([::1]:7852)已启动。", Some("[::1]:7852")),
            (
                "listening on [::ffff:127.0.0.1]:7852",
                Some("[::ffff:127.0.0.1]:7852"),
            ),
            ("0.0.0.0:7852 和 [::]:7852", Some("0.0.0.0:7852")),
            // 没有地址:只有这时才说找不到。
            ("服务器已启动", None),
            ("端口 7852", None),
            ("127.0.0.1 端口 7852", None),
            ("版本 1.2.3", None),
            ("listening on 127.0.0.1:", None),
            ("listening on 127.0.0.1:700000", None),
            ("listening on 999.0.0.1:80", None),
            ("[::1] 7852", None),
        ];
        for &(line, want) in table {
            let want = want.map(|w| w.parse::<SocketAddr>().unwrap());
            assert_eq!(find_socket_addr(line), want, "第一行是: {line}");
        }
    }

    #[test]
    fn a_printed_reply_must_end_its_line_exactly() {
        let reply = "服务器回信:收到了";
        let exactly = [
            "服务器回复: 服务器回信:收到了\n",
            "已向 127.0.0.1:1 发送 13 字节\n服务器回复: 服务器回信:收到了\n再见\n",
            "服务器回信:收到了\n",
            "服务器回信:收到了",
        ];
        for stdout in exactly {
            assert_eq!(find_printed(stdout, reply), Printed::Exactly, "{stdout:?}");
        }
        let nul = format!("服务器回复: {reply}{}\n", "\0".repeat(3));
        assert_eq!(
            find_printed(&nul, reply),
            Printed::WithExtra("\0\0\0".into())
        );
        assert_eq!(
            find_printed(&format!("回复: {reply}\r\n"), reply),
            Printed::WithExtra("\r".into())
        );
        assert_eq!(
            find_printed(&format!("回复: {reply}\n\n"), reply),
            Printed::WithExtra("\n".into())
        );
        assert_eq!(
            find_printed(&format!("回复: \"{reply}\"\n"), reply),
            Printed::WithExtra("\"".into())
        );
        assert_eq!(
            find_printed("回复: 服务器回信\n", reply),
            Printed::Partly(5)
        );
        assert_eq!(find_printed("什么也没有\n", reply), Printed::Missing);
    }

    #[test]
    fn a_timeout_is_mentioned_by_its_word_or_its_length() {
        for said in [
            "错误: 等了 1 秒,没有收到回复",
            "错误: 等待回复超时",
            "Error: timed out waiting for a reply",
            "错误: 服务器 1s 内没有回应",
            "错误: 1000 毫秒内没有收到回复",
            "错误: 超过时限,放弃",
        ] {
            assert!(mentions_timeout(said, 1), "{said}");
        }
        for said in [
            "错误: Resource temporarily unavailable (os error 11)",
            "错误: 服务器没有回应,放弃了",
            "错误: 等了 11s",
            "错误: 1st try failed",
        ] {
            assert!(!mentions_timeout(said, 1), "{said}");
        }
    }

    #[test]
    fn python_bytes_survive_a_shell() {
        assert_eq!(python_bytes(b"ab 1"), "b'ab\\x201'");
        assert_eq!(python_bytes("$\"'\\".as_bytes()), "b'\\x24\\x22\\x27\\x5c'");
        assert_eq!(python_bytes(b"\xff"), "b'\\xff'");
    }

    #[test]
    fn shell_quoting_keeps_every_argument_intact() {
        assert_eq!(shell_quote("你好,世界"), "'你好,世界'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("a\u{1b}[31m\\"), "$'a\\x1b[31m\\\\'");
        assert_eq!(shell_quote("两\n行"), "$'两\\x0a行'");
    }
}
