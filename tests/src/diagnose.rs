//! 从程序自己的 stderr 猜最可能的原因。
//!
//! 学员的程序出错时,通常会把错误打印出来(`错误: 无法回复 …: Connection reset by peer (os error 104)`)。
//! 同一个错误在不同的系统上说法不同:Linux、macOS 的错误码不一样,Windows 的错误码是 100xx,
//! 中文版 Windows 的错误信息还是中文的。所以认错误时,既看标准库的英文说法,
//! 也看 `(os error N)` 里的错误码,还看中文版 Windows 的说法。

use std::process::ExitStatus;

/// 出问题的程序在课里扮演的角色:同一个错误,对服务器和客户端的建议不一样。
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Server,
    Client,
}

/// 能从 stderr 里认出来的原因,按可信的程度排列:排在前面的先认。
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// 走到了一个还没写完的 `todo!()`。
    Todo,
    /// 把收到的字节当成 UTF-8 解码,遇到坏字节就失败了。
    InvalidUtf8,
    /// 数据报比接收缓冲区大(Windows 上 recv_from 报错,而不是截断)。
    MessageTooLong,
    /// 地址已被占用。
    AddrInUse,
    /// UDP 套接字没有 connect 就用了 send:不知道发给谁。
    NoDestination,
    /// 连接被拒绝。
    Refused,
    /// 读或写超时了。
    TimedOut,
    /// 连接被对方重置。
    Reset,
    /// 往一个对方已经关闭的连接里写。
    BrokenPipe,
    /// panic 了(原因不在上面)。
    Panicked,
}

/// 一个原因在 stderr 里的样子:标准库(和 anyhow、clap)的说法、中文版 Windows 的说法,
/// 以及三个系统上的错误码。
struct Sign {
    cause: Cause,
    texts: &'static [&'static str],
    linux: &'static [i32],
    macos: &'static [i32],
    windows: &'static [i32],
}

const SIGNS: &[Sign] = &[
    Sign {
        cause: Cause::Todo,
        texts: &["not yet implemented"],
        linux: &[],
        macos: &[],
        windows: &[],
    },
    Sign {
        cause: Cause::InvalidUtf8,
        texts: &[
            "invalid utf-8",
            "FromUtf8Error",
            "Utf8Error",
            "did not contain valid UTF-8",
        ],
        linux: &[],
        macos: &[],
        windows: &[],
    },
    Sign {
        cause: Cause::MessageTooLong,
        texts: &["Message too long", "大于内部消息缓冲区"],
        linux: &[90],
        macos: &[40],
        windows: &[10040],
    },
    Sign {
        cause: Cause::AddrInUse,
        texts: &["Address already in use", "AddrInUse", "只允许使用一次"],
        linux: &[98],
        macos: &[48],
        windows: &[10048],
    },
    Sign {
        cause: Cause::NoDestination,
        texts: &["Destination address required", "NotConnected"],
        linux: &[89],
        macos: &[39],
        windows: &[10039, 10057],
    },
    Sign {
        cause: Cause::Refused,
        texts: &["Connection refused", "ConnectionRefused", "积极拒绝"],
        linux: &[111],
        macos: &[61],
        windows: &[10061],
    },
    Sign {
        cause: Cause::TimedOut,
        texts: &[
            "timed out",
            "Resource temporarily unavailable",
            "WouldBlock",
            "TimedOut",
            "没有正确答复",
            "无法立即完成",
        ],
        linux: &[11, 110],
        macos: &[35, 60],
        windows: &[10035, 10060],
    },
    Sign {
        cause: Cause::Reset,
        texts: &["Connection reset", "ConnectionReset", "强迫关闭"],
        linux: &[104],
        macos: &[54],
        windows: &[10054],
    },
    Sign {
        cause: Cause::BrokenPipe,
        texts: &["Broken pipe", "BrokenPipe", "中止了一个已建立的连接"],
        linux: &[32],
        macos: &[32],
        windows: &[10053],
    },
    Sign {
        cause: Cause::Panicked,
        texts: &["panicked"],
        linux: &[],
        macos: &[],
        windows: &[],
    },
];

impl Sign {
    /// 这个系统上的错误码。Windows 的错误码(100xx)和 Unix 的不会撞车,所以总是认:
    /// 在 Linux 上评分一个在 Wine 里跑的 .exe 时,它报的就是 Windows 的错误码。
    fn codes(&self) -> impl Iterator<Item = i32> + '_ {
        let unix = if cfg!(target_os = "macos") {
            self.macos
        } else {
            self.linux
        };
        unix.iter().chain(self.windows).copied()
    }

    fn seen_in(&self, stderr: &str, codes: &[i32]) -> bool {
        let lower = stderr.to_lowercase();
        self.texts
            .iter()
            .any(|text| lower.contains(&text.to_lowercase()))
            || self.codes().any(|code| codes.contains(&code))
    }
}

/// stderr 里每一个错误码:`{err}` 打印成 `(os error N)`,`unwrap()`、`expect()` 和 `{err:?}`
/// 打印成 `Os { code: N, kind: …, message: … }`。
///
/// 后一种只能靠错误码认:英文版 Windows 上 10040 的 message 是一长句「A message sent on a
/// datagram socket was larger than…」,kind 是 Uncategorized,哪个说法都对不上。
pub fn os_errors(stderr: &str) -> Vec<i32> {
    let mut codes = Vec::new();
    for marker in ["os error ", "Os { code: "] {
        codes.extend(stderr.split(marker).skip(1).filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<i32>().ok()
        }));
    }
    codes
}

/// stderr 里认得出的所有原因,最可信的在前。
pub fn causes(stderr: &str) -> Vec<Cause> {
    let codes = os_errors(stderr);
    SIGNS
        .iter()
        .filter(|sign| sign.seen_in(stderr, &codes))
        .map(|sign| sign.cause)
        .collect()
}

/// stderr 里最可信的那个原因。
pub fn cause(stderr: &str) -> Option<Cause> {
    causes(stderr).into_iter().next()
}

/// 根据程序的 stderr,给出最可能的原因和改法。
pub fn diagnose(role: Role, stderr: &str) -> String {
    let panicked = stderr.contains("panicked");
    let unwrap_note = if panicked {
        "程序 panic 了:坏数据、连接出错,在网络程序里都是正常的运行时情况,不要 unwrap。"
    } else {
        ""
    };
    let Some(cause) = cause(stderr) else {
        return "看看上面 stderr 里程序自己说了什么。".to_owned();
    };
    match (cause, role) {
        (Cause::Todo, _) => "程序执行到了一个还没完成的 todo!():stderr 里 `not yet implemented` \
             后面写着卡在骨架的哪一步。按课本把那一步的 TODO 换成真正的代码。"
            .to_owned(),
        (Cause::InvalidUtf8, _) => format!(
            "{unwrap_note}程序把收到的字节当成 UTF-8 文字来解码,遇到坏字节就失败了(见 stderr)。\
             网络上来的字节不一定是合法的 UTF-8:用 String::from_utf8_lossy(&buf[..n]) 变成文字,\
             坏字节变成 �,它永远不会失败。String::from_utf8 和 str::from_utf8 遇到坏字节会返回 Err\
             (unwrap 会 panic,用 ? 也会让这一次处理失败);读 TCP 时 read_line 也一样,\
             改用 read_until(b'\\n', …) 读字节。"
        ),
        (Cause::MessageTooLong, _) => format!(
            "{unwrap_note}接收缓冲区太小:Windows 上,比缓冲区大的数据报会让 recv_from 报错 \
             (错误码 10040,WSAEMSGSIZE);Linux 和 macOS 上则悄悄截掉放不下的部分。\
             按 UDP 最大数据报(65507 字节)准备缓冲区。"
        ),
        (Cause::AddrInUse, Role::Server) => format!(
            "{unwrap_note}地址已被占用。评分器用 --port 0 启动你的程序,系统会挑一个空闲端口:\
             确认程序用了 --port 参数,没有写死端口。"
        ),
        (Cause::AddrInUse, Role::Client) => format!(
            "{unwrap_note}客户端绑定的地址已经被占用了(见 stderr)。客户端不需要固定的端口:\
             绑定 127.0.0.1:0(或 0.0.0.0:0),让系统挑一个空闲端口。服务器的地址只用在 \
             send_to / connect 上,不要拿它来 bind。"
        ),
        (Cause::NoDestination, _) => format!(
            "{unwrap_note}UDP 套接字没有 connect,send 不知道该发给谁(见 stderr:\
             Destination address required,Windows 上是错误码 10057)。\
             回复要用 send_to(数据, 地址),地址就是 recv_from 返回的发送方地址。"
        ),
        (Cause::Refused, _) => format!(
            "{unwrap_note}连接被拒绝(ConnectionRefused,Windows 上是错误码 10061):\
             那个地址上没有程序在监听。确认地址和端口用的是 --host 和 --port。"
        ),
        (Cause::TimedOut, Role::Client) => format!(
            "{unwrap_note}读超时到了(见 stderr)。读超时在 Unix 上是 ErrorKind::WouldBlock,\
             在 Windows 上是 ErrorKind::TimedOut(错误码 10060):两种都要认出来,\
             变成一句说明超时的中文,交给 main。"
        ),
        (Cause::TimedOut, Role::Server) => format!(
            "{unwrap_note}一次读或写超时了(见 stderr;Unix 上是 WouldBlock,Windows 上是 TimedOut,\
             错误码 10060)。超时说明那一个客户端不说话或者不读,只该断开它:记一行带地址的日志,\
             接着服务别人。"
        ),
        (Cause::Reset, _) => format!(
            "{unwrap_note}连接被对方重置了(ConnectionReset,Windows 上是错误码 10054)。\
             这只说明那一个对方走了:记一行日志,接着服务别人。(Windows 上,UDP 的 recv_from \
             也会因为之前的一个数据报没送到而返回它,那也不是致命错误。)"
        ),
        (Cause::BrokenPipe, _) => format!(
            "{unwrap_note}往一个对方已经关闭的连接里写(Broken pipe,Windows 上是错误码 10053):\
             那个对方已经走了,记一行日志,接着服务别人。"
        ),
        (Cause::Panicked, _) => {
            "程序 panic 了(见上面的 stderr)。网络程序里的 unwrap() 遇到错误就会 \
             panic;改用 ? 把错误交给调用者,由它记日志或者交给 main 打印。"
                .to_owned()
        }
    }
}

/// 一个本该一直运行的服务器自己退出了:说清它为什么退出,以及该怎么改。
pub fn server_exited(status: ExitStatus, stderr: &str) -> String {
    let said = stderr
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .map(|line| {
            format!(
                "服务器退出前在 stderr 上说的最后一句是「{}」。",
                line.trim()
            )
        })
        .unwrap_or_default();
    if cause(stderr) == Some(Cause::Todo) {
        return diagnose(Role::Server, stderr);
    }
    if status.success() {
        return format!(
            "服务器以退出码 0 正常结束了:它服务完就走,没有循环。{said}\
             把接收和处理放进循环里(UDP 用 loop,TCP 用 for stream in listener.incoming()),永不返回。"
        );
    }
    format!(
        "{said}服务器要一直运行:一个客户端出的问题(超时、断开、坏数据、回复失败)只该影响这一个客户端。\
         在循环里处理每一次的错误:记一行带对方地址的日志,然后接着循环;不要用 ? 或 unwrap 把错误交出循环。\
         \n{}",
        diagnose(Role::Server, stderr)
    )
}

/// 兼容旧名字:按服务器的角色诊断。
pub fn diagnose_stderr(stderr: &str) -> String {
    diagnose(Role::Server, stderr)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 三个系统、两种语言的错误信息,都要认成同一个原因。
    #[test]
    fn recognises_errors_on_every_system() {
        let linux_or_mac = |linux: &str, mac: &str| {
            if cfg!(target_os = "macos") {
                mac.to_owned()
            } else {
                linux.to_owned()
            }
        };
        let table: Vec<(String, Cause)> = vec![
            ("thread 'main' panicked at src/main.rs:9:5:\nnot yet implemented: 第 1 步".into(), Cause::Todo),
            ("called `Result::unwrap()` on an `Err` value: FromUtf8Error { bytes: [255], error: Utf8Error { valid_up_to: 0, error_len: Some(1) } }".into(), Cause::InvalidUtf8),
            ("警告: invalid utf-8 sequence of 1 bytes from index 0".into(), Cause::InvalidUtf8),
            ("警告: 处理 127.0.0.1:5 时出错: stream did not contain valid UTF-8".into(), Cause::InvalidUtf8),
            ("错误: 一个在数据报套接字上发送的消息大于内部消息缓冲区或其他一些网络限制,或该用户用于接收数据报的缓冲区比数据报小。 (os error 10040)".into(), Cause::MessageTooLong),
            ("Error: A message sent on a datagram socket was larger than the internal message buffer (os error 10040)".into(), Cause::MessageTooLong),
            (linux_or_mac("错误: 无法绑定 127.0.0.1:7852: Address already in use (os error 98)", "错误: 无法绑定 127.0.0.1:7852: Address already in use (os error 48)"), Cause::AddrInUse),
            ("错误: 无法绑定 127.0.0.1:7852: 通常每个套接字地址(协议/网络地址/端口)只允许使用一次。 (os error 10048)".into(), Cause::AddrInUse),
            ("Error: Os { code: 10048, kind: AddrInUse, message: \"...\" }".into(), Cause::AddrInUse),
            (linux_or_mac("警告: 无法回复: Destination address required (os error 89)", "警告: 无法回复: Destination address required (os error 39)"), Cause::NoDestination),
            ("警告: 无法回复: (os error 10057)".into(), Cause::NoDestination),
            ("错误: 无法连接 127.0.0.1:9: Connection refused (os error 111)".into(), Cause::Refused),
            ("错误: 无法连接 127.0.0.1:9: 由于目标计算机积极拒绝,无法连接。 (os error 10061)".into(), Cause::Refused),
            (linux_or_mac("错误: 接收失败: Resource temporarily unavailable (os error 11)", "错误: 接收失败: Resource temporarily unavailable (os error 35)"), Cause::TimedOut),
            ("错误: 接收失败: 由于连接方在一段时间后没有正确答复或连接的主机没有反应,连接尝试失败。 (os error 10060)".into(), Cause::TimedOut),
            ("Error: connection timed out".into(), Cause::TimedOut),
            ("警告: Connection reset by peer (os error 104)".into(), Cause::Reset),
            ("警告: 远程主机强迫关闭了一个现有的连接。 (os error 10054)".into(), Cause::Reset),
            ("警告: 无法回复: Broken pipe (os error 32)".into(), Cause::BrokenPipe),
            ("警告: 你的主机中的软件中止了一个已建立的连接。 (os error 10053)".into(), Cause::BrokenPipe),
            ("thread 'main' panicked at src/main.rs:3:5:\nboom".into(), Cause::Panicked),
        ];
        for (stderr, want) in table {
            assert_eq!(cause(&stderr), Some(want), "stderr: {stderr}");
        }
        assert_eq!(cause("错误: 配置文件读不到了"), None);
    }

    #[test]
    fn finds_every_os_error_code() {
        assert_eq!(
            os_errors("a (os error 104) b (os error 10054)"),
            vec![104, 10054]
        );
        assert!(os_errors("没有错误码").is_empty());
    }

    /// unwrap() 打印的是 io::Error 的 Debug 形式,里面没有「os error」;英文版 Windows 上
    /// 10040 的说明和 kind 也都认不出来,只剩错误码。
    #[test]
    fn reads_the_code_from_an_unwrapped_io_error() {
        let stderr = "thread 'main' panicked at src/main.rs:8:48:\n\
            recv_from: Os { code: 10040, kind: Uncategorized, message: \"A message sent on a \
            datagram socket was larger than the internal message buffer or some other network \
            limit, or the buffer used to receive a datagram into was smaller than the datagram \
            itself.\" }";
        assert_eq!(os_errors(stderr), vec![10040]);
        assert_eq!(cause(stderr), Some(Cause::MessageTooLong));
    }

    #[test]
    fn gives_clients_and_servers_different_advice_for_a_busy_address() {
        let stderr = "错误: Address already in use (os error 98)";
        assert!(diagnose(Role::Server, stderr).contains("--port"));
        assert!(diagnose(Role::Client, stderr).contains("127.0.0.1:0"));
    }

    #[test]
    fn points_a_utf8_panic_at_from_utf8_lossy() {
        let stderr = "thread 'main' panicked at src/main.rs:40:51:\ncalled `Result::unwrap()` on an `Err` value: FromUtf8Error { bytes: [255, 254], error: Utf8Error { valid_up_to: 0, error_len: Some(1) } }";
        let hint = diagnose(Role::Server, stderr);
        assert!(hint.contains("from_utf8_lossy"), "{hint}");
        assert!(hint.contains("不要 unwrap"), "{hint}");
    }
}
