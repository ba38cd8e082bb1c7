//! 别扭的输入:一份目录,每一项检查都从这里取好几个输入,而不只是一句「你好,世界」。
//!
//! 错误的程序常常只在某一类输入上露馅:行尾的空格被 trim 掉了,引号被转义了,
//! 坏的 UTF-8 被换成了 �,emoji 被按字节截断了,控制字符搅乱了一行。所以目录按类别收集:
//! 空白和分行、引号和转义、编码、各种文字、长度的边界。
//!
//! 取用的顺序由种子决定(`COURSE_SEED`,默认 0):同一个种子,顺序每次都一样;
//! 换一个种子,就换一个顺序,用来发现只在某种先后下才出现的错误。失败信息会写出种子和
//! 是哪一个输入,照着就能重现。

use std::net::{SocketAddr, UdpSocket};

/// 输入的类别。每一项检查只取和它那条规则有关的类别:比如「原样回复」取各种文字,
/// 「坏的 UTF-8 不出事」取各种坏字节。这样一个错误总是在查它那条规则的检查上露馅,
/// 失败信息和章节对得上。
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 各种文字:中文和全角标点、引号和反斜杠、emoji、组合字符、双向文字控制符。
    Text,
    /// 空白:行首行尾的空格、制表符。
    Space,
    /// 控制字符(不含换行):ESC、响铃、退格、行中间的回车、NUL。
    Control,
    /// 换行:结尾的 `\n`、`\r\n`、好几行。
    Newline,
    /// 不是合法 UTF-8 的字节。
    BadUtf8,
    /// 空的(0 字节)。
    Empty,
}

/// 目录里的一个输入:类别、给人看的名字,和它的字节。
#[derive(Debug, Clone)]
pub struct Input {
    pub kind: Kind,
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

impl Input {
    fn new(kind: Kind, name: &'static str, bytes: &[u8]) -> Input {
        Input {
            kind,
            name,
            bytes: bytes.to_vec(),
        }
    }

    /// 它的文字(不是合法 UTF-8 的字节显示为 �)。
    pub fn lossy(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// 在失败信息里说明这是哪一个输入、怎么重现。
    pub fn note(&self) -> String {
        format!(
            "这一次用的是输入目录里的「{}」(种子 {};COURSE_SEED={} 可以按同样的顺序重现)",
            self.name,
            seed(),
            seed()
        )
    }
}

/// 整份目录。
fn catalogue() -> Vec<Input> {
    use Kind::*;
    vec![
        Input::new(
            Text,
            "中文和全角标点",
            "你好,世界!这是「一行」。".as_bytes(),
        ),
        Input::new(
            Text,
            "引号和反斜杠",
            br#""double" 'single' \back\slash\ \n is not a newline"#,
        ),
        Input::new(Text, "emoji", "🦀 Rust 🎉".as_bytes()),
        Input::new(
            Text,
            "组合字符",
            "e\u{301} 和 a\u{30a}、\u{1f44d}\u{1f3fd}".as_bytes(),
        ),
        Input::new(Text, "双向文字控制符", "abc\u{202e}def".as_bytes()),
        Input::new(Space, "行首行尾的空格", "  前后都有空格  ".as_bytes()),
        Input::new(Space, "制表符", "\t制表符\t在两头\t".as_bytes()),
        Input::new(
            Control,
            "ESC 和颜色代码",
            "\u{1b}[31m红色\u{1b}[0m".as_bytes(),
        ),
        Input::new(Control, "响铃和退格", "响铃\u{7}退格\u{8}".as_bytes()),
        Input::new(Control, "行中间的回车", "回车\r在中间".as_bytes()),
        Input::new(Control, "NUL 字节", b"a\0b\0"),
        Input::new(Newline, "结尾的换行", "一行字\n".as_bytes()),
        Input::new(Newline, "回车换行", "Windows 的一行\r\n".as_bytes()),
        Input::new(Newline, "好几行", "第一行\n第二行\n\n第四行".as_bytes()),
        Input::new(BadUtf8, "单独的 0xff", b"\xff\xfe ok"),
        Input::new(BadUtf8, "截断的汉字", b"\xe4\xbd \xe5"),
        Input::new(BadUtf8, "多余的后续字节", b"\x80\xbf hi"),
        Input::new(BadUtf8, "超长编码", b"\xc0\xaf \xe0\x80\xaf"),
        Input::new(Empty, "空的", b""),
    ]
}

/// 取用顺序的种子。
pub fn seed() -> u64 {
    std::env::var("COURSE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// 目录里这几类的输入,按种子排好顺序。
pub fn pick(kinds: &[Kind]) -> Vec<Input> {
    ordered_by(
        catalogue()
            .into_iter()
            .filter(|input| kinds.contains(&input.kind))
            .collect(),
        seed(),
    )
}

/// 把输入转 `seed` 下(种子 0 就是原来的顺序):每个输入都还在,只是先后变了。
fn ordered_by(mut inputs: Vec<Input>, seed: u64) -> Vec<Input> {
    if !inputs.is_empty() {
        let n = inputs.len();
        inputs.rotate_left((seed % n as u64) as usize);
    }
    inputs
}

/// 命令行参数 `--message` 的值:从这几类里取,去掉不能当参数的(坏的 UTF-8、NUL、
/// 以 `-` 开头的),`lines` 为真时(一行一条消息的协议)也去掉带换行的。
pub fn messages(kinds: &[Kind], lines: bool) -> Vec<Input> {
    pick(kinds)
        .into_iter()
        .filter(|input| {
            std::str::from_utf8(&input.bytes).is_ok_and(|text| {
                !text.is_empty()
                    && !text.starts_with('-')
                    && !text.contains('\0')
                    && !(lines && (text.contains('\n') || text.contains('\r')))
            })
        })
        .collect()
}

/// 一行一条消息的协议里的文字:从这几类里取,去掉带换行的、以 `\r` 结尾的和空的。
pub fn lines(kinds: &[Kind]) -> Vec<Input> {
    pick(kinds)
        .into_iter()
        .filter(|input| {
            !input.bytes.is_empty()
                && !input.bytes.contains(&b'\n')
                && !input.bytes.ends_with(b"\r")
        })
        .collect()
}

/// 行尾是 `\r\n` 的一行(Windows 的 nc、telnet 这样发):目录里以 `\r\n` 结尾、只有这一个
/// 换行的输入,字节里带着行尾。
pub fn crlf_lines() -> Vec<Input> {
    pick(&[Kind::Newline])
        .into_iter()
        .filter(|input| {
            input.bytes.ends_with(b"\r\n")
                && input.bytes.iter().filter(|&&b| b == b'\n').count() == 1
        })
        .collect()
}

/// IPv6 的回环地址 ::1。
pub const IPV6_LOOPBACK: std::net::IpAddr = std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST);

/// 这台机器没有 IPv6 的回环地址时,用 `--host ::1` 的检查跳过的原因。
pub const NO_IPV6: &str = "这台机器没有 IPv6 的回环地址(::1),评分器自己都用不了它";

/// 这台机器有没有 IPv6 的回环地址(::1)。没有时,用 `--host ::1` 的检查只能跳过。
pub fn has_ipv6_loopback() -> bool {
    UdpSocket::bind(SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 0))).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Kind::*;

    /// 目录要覆盖说好的每一类:空白、转义、编码、文字、边界。
    #[test]
    fn the_catalogue_covers_every_kind_of_awkward_input() {
        let all = catalogue();
        let has = |pred: &dyn Fn(&[u8]) -> bool| all.iter().any(|i| pred(&i.bytes));
        assert!(has(&|b| b.starts_with(b" ") && b.ends_with(b" ")));
        assert!(has(&|b| b.contains(&b'\t')));
        assert!(has(&|b| b.ends_with(b"\r\n")));
        assert!(has(&|b| b.contains(&b'"') && b.contains(&b'\\')));
        assert!(has(&|b| b.contains(&0x1b)));
        assert!(has(&|b| std::str::from_utf8(b).is_err()));
        assert!(has(&|b| b.is_empty()));
        assert!(has(&|b| String::from_utf8_lossy(b).contains('🦀')));
        assert!(has(&|b| String::from_utf8_lossy(b).contains('\u{301}')));
        for kind in [Text, Space, Control, Newline, BadUtf8, Empty] {
            assert!(all.iter().any(|i| i.kind == kind), "{kind:?}");
        }
    }

    #[test]
    fn lines_and_messages_fit_their_protocols() {
        for line in lines(&[Text, Space, Control, Newline, BadUtf8, Empty]) {
            assert!(!line.bytes.contains(&b'\n'), "{}", line.name);
            assert!(!line.bytes.ends_with(b"\r"), "{}", line.name);
        }
        assert!(!crlf_lines().is_empty());
        for line in crlf_lines() {
            assert!(line.bytes.ends_with(b"\r\n"), "{}", line.name);
        }
        for message in messages(&[Text, Space, Control, Newline], true) {
            let text = std::str::from_utf8(&message.bytes).expect("命令行参数是合法的 UTF-8");
            assert!(!text.starts_with('-') && !text.contains('\0') && !text.contains('\r'));
        }
    }

    #[test]
    fn the_seed_only_changes_the_order() {
        let names = |inputs: &[Input]| inputs.iter().map(|i| i.name).collect::<Vec<_>>();
        let plain = ordered_by(catalogue(), 0);
        let turned = ordered_by(catalogue(), 3);
        assert_eq!(names(&plain), names(&catalogue()));
        assert_ne!(names(&plain), names(&turned));
        let mut a = names(&plain);
        let mut b = names(&turned);
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
    }
}
