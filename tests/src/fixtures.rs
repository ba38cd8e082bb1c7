//! 评分框架自己的试金石:故意写错的程序(和几个写法不同、但完全正确的程序),以及每一个
//! 应该得到的结论。程序在 `tests/fixtures/`,是这个包的 bin;自测在 `tests/tests/fixtures.rs`。
//!
//! 这张表也是规则清单([`crate::rules`])的依据:清单里每条规则都要有一个在这里、
//! 在那条规则的检查上失败的例子。

use std::time::Duration;

use crate::grader::Lesson;
use crate::{lesson01, lesson02, lesson03, lesson04, lesson05, lesson06};

/// 一个例子:用哪一课的评分器、给哪个程序打分,期望什么结果。
pub struct Case {
    /// 程序:`tests/fixtures/` 里的一个 bin 的名字。
    pub program: &'static str,
    /// 一句话说它错在哪里(或者,对正确的程序,它哪里写得不一样):给课本的「评分器检查什么」用。
    pub mistake: &'static str,
    pub lesson: &'static Lesson,
    /// 只用这一课从第几项开始的检查(比如只测第 6 课的客户端那几项);通常是 0。
    pub skip: usize,
    pub expect: Expect,
    /// 最多用多久得出结论(包括所有检查);慢机器上按 `COURSE_TIMEOUT_SCALE` 放大。
    pub within: Duration,
}

pub enum Expect {
    /// 在第 `check` 项失败(按 `skip` 之后的编号),标题恰好是 `headline`
    /// (端口号写成 `<端口>`),整份信息里有 `says` 的每一句。
    Fails {
        check: usize,
        headline: &'static str,
        says: &'static [&'static str],
    },
    /// 全部通过:一个写法不同、但完全正确的程序。
    Passes,
}

use Expect::{Fails, Passes};

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// 所有的例子。每一行都是一类学员真的会犯的错误(或者一种完全正确的不同写法)。
pub const CASES: &[Case] = &[
    // ---- 第 1 课 ----
    Case {
        program: "fixture-silent",
        mistake: "启动后一个字也不打印",
        lesson: &lesson01::LESSON,
        skip: 0,
        expect: Fails {
            check: 1,
            headline: "服务器在 5 秒内没有在 stdout 打印任何一行",
            says: &["local_addr"],
        },
        within: secs(7),
    },
    Case {
        program: "fixture-crash",
        mistake: "启动时就 panic 了",
        lesson: &lesson01::LESSON,
        skip: 0,
        expect: Fails {
            check: 1,
            headline: "服务器还没打印地址就退出了",
            says: &[
                "退出码 101",
                "fixture-crash: 配置文件读不到了",
                "fixture-crash 故意崩溃",
            ],
        },
        within: secs(2),
    },
    Case {
        program: "fixture-udp-server-sleeps",
        mistake: "收到数据报以后不回复",
        lesson: &lesson01::LESSON,
        skip: 0,
        expect: Fails {
            check: 2,
            headline: "服务器在 5 秒内没有回复",
            says: &["服务器还在运行", "send_to"],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-udp-server-fixed-port",
        mistake: "回复发到写死的端口",
        lesson: &lesson01::LESSON,
        skip: 0,
        expect: Fails {
            check: 2,
            headline: "服务器以退出码 0 退出了,但回复没有到达发送方",
            says: &["不要写死地址或端口"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-udp-server-truncates",
        mistake: "像原教程那样只准备 500 字节的缓冲区",
        lesson: &lesson01::LESSON,
        skip: 0,
        expect: Fails {
            check: 5,
            headline: if cfg!(windows) {
                "服务器的接收缓冲区放不下 8000 字节的数据报"
            } else {
                "回复被截断了:发出 8000 字节,只收回 500 字节"
            },
            says: &["65507"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-udp-server-unwraps-utf8",
        mistake: "用 String::from_utf8(…).unwrap() 解码",
        lesson: &lesson01::LESSON,
        skip: 0,
        expect: Fails {
            check: 6,
            headline: "服务器还没回复就退出了",
            says: &["退出码 101", "from_utf8_lossy", "不要 unwrap"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-udp-server-english",
        mistake: "（正确）英文提示，地址后面跟句点",
        lesson: &lesson01::LESSON,
        skip: 0,
        expect: Passes,
        within: secs(3),
    },
    Case {
        program: "fixture-udp-server-logs-length",
        mistake: "日志里只记了长度",
        lesson: &lesson01::LESSON,
        skip: 0,
        expect: Fails {
            check: 3,
            headline: "stdout 里没有同时出现收到的文字和发送方地址",
            says: &["from_utf8_lossy"],
        },
        within: secs(7),
    },
    Case {
        program: "fixture-udp-loop-debug-log",
        mistake: "回复以后不退出，一直循环（第 3 课的写法）",
        lesson: &lesson01::LESSON,
        skip: 0,
        expect: Fails {
            check: 4,
            headline: "回复之后,程序没有以退出码 0 退出",
            says: &["第 3 课"],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-udp-server-panics-on-bind",
        mistake: "绑定时用了 unwrap",
        lesson: &lesson01::LESSON,
        skip: 0,
        expect: Fails {
            check: 7,
            headline: "端口被占用时,程序没有好好地报错退出",
            says: &["程序 panic 了", "with_context"],
        },
        within: secs(4),
    },
    Case {
        program: "fixture-udp-server-ignores-host",
        mistake: "不管 --host，总是绑定 127.0.0.1",
        lesson: &lesson01::LESSON,
        skip: 0,
        expect: Fails {
            check: 8,
            headline: "用 --host ::1 启动,服务器却没有绑定在 ::1 上",
            says: &["不要写死 127.0.0.1"],
        },
        within: secs(4),
    },
    Case {
        program: "fixture-udp-server-slow-bind-error",
        mistake: "端口被占用时先重试几秒才报错",
        lesson: &lesson01::LESSON,
        skip: 0,
        expect: Fails {
            check: 7,
            headline: "端口被占用,程序却过了好一会儿才报错退出",
            says: &["不要重试"],
        },
        within: secs(6),
    },
    // ---- 第 2 课 ----
    Case {
        program: "fixture-udp-client-no-timeout",
        mistake: "没有设读超时",
        lesson: &lesson02::LESSON,
        skip: 0,
        expect: Fails {
            check: 4,
            headline: "服务器不回复时,客户端没有好好地超时退出",
            says: &["没有结束,被评分器结束了", "set_read_timeout"],
        },
        within: secs(10),
    },
    Case {
        program: "fixture-udp-client-prints-whole-buffer",
        mistake: "打印整个缓冲区（回复后面跟着一串 \\0）",
        lesson: &lesson02::LESSON,
        skip: 0,
        expect: Fails {
            check: 2,
            headline: "客户端打印的回复后面多了 65510 个字符",
            says: &["\\0\\0\\0", "&buf[..n]"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-udp-client-sends-newline",
        mistake: "消息后面多发一个换行",
        lesson: &lesson02::LESSON,
        skip: 0,
        expect: Fails {
            check: 1,
            headline: "收到的数据报和 --message 不一样",
            says: &["\\n\" (14 字节)", "send_to(message, server)"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-udp-client-binds-server-port",
        mistake: "客户端绑定了服务器的地址",
        lesson: &lesson02::LESSON,
        skip: 0,
        expect: Fails {
            check: 1,
            headline: "客户端还没发出数据报就退出了",
            says: &["Address already in use", "127.0.0.1:0", "不要拿它来 bind"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-udp-client-fixed-timeout",
        mistake: "超时写死成 3 秒，不用 --timeout",
        lesson: &lesson02::LESSON,
        skip: 0,
        expect: Fails {
            check: 4,
            headline: "--timeout 1 的客户端等了太久才放弃",
            says: &["不要写死"],
        },
        within: secs(6),
    },
    Case {
        program: "fixture-udp-client-english",
        mistake: "（正确）英文前缀，超时说成「1s」",
        lesson: &lesson02::LESSON,
        skip: 0,
        expect: Passes,
        within: secs(4),
    },
    Case {
        program: "fixture-udp-client-unwraps-utf8",
        mistake: "用 String::from_utf8(…).unwrap() 解码回复",
        lesson: &lesson02::LESSON,
        skip: 0,
        expect: Fails {
            check: 5,
            headline: "客户端没有打印服务器的回复并正常退出",
            says: &["退出码 101", "from_utf8_lossy"],
        },
        within: secs(4),
    },
    Case {
        program: "fixture-udp-client-small-buffer",
        mistake: "像原教程那样只准备 1000 字节的缓冲区",
        lesson: &lesson02::LESSON,
        skip: 0,
        expect: Fails {
            check: 3,
            headline: "客户端只打印了回复的一部分",
            says: &["65507"],
        },
        within: secs(4),
    },
    Case {
        program: "fixture-udp-client-ipv4-only",
        mistake: "自己的套接字总是绑定 0.0.0.0:0",
        lesson: &lesson02::LESSON,
        skip: 0,
        expect: Fails {
            check: 6,
            headline: "客户端还没发出数据报就退出了",
            says: &["[::]:0"],
        },
        within: secs(5),
    },
    // ---- 第 3 课 ----
    Case {
        program: "fixture-udp-loop-first-client",
        mistake: "把回复都发给第一个客户端",
        lesson: &lesson03::LESSON,
        skip: 0,
        expect: Fails {
            check: 4,
            headline: "客户端 B 的回复被发给了客户端 A",
            says: &["我是客户端 B"],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-udp-loop-skips-empty",
        mistake: "把空数据报当成 EOF 跳过",
        lesson: &lesson03::LESSON,
        skip: 0,
        expect: Fails {
            check: 6,
            headline: "服务器没有回复空数据报",
            says: &["不是 EOF"],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-udp-loop-raw-log",
        mistake: "日志里不转义，一个数据报占两行",
        lesson: &lesson03::LESSON,
        skip: 0,
        expect: Fails {
            check: 7,
            headline: "一个数据报打印了不止一行",
            says: &["escape_debug"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-udp-loop-logs-bytes",
        mistake: "日志里用 {:?} 打印字节",
        lesson: &lesson03::LESSON,
        skip: 0,
        expect: Fails {
            check: 3,
            headline: "日志里没有数据报的文字",
            says: &["[231, 172, 172", "from_utf8_lossy"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-udp-loop-strict-utf8",
        mistake: "用 str::from_utf8(data)? 解码",
        lesson: &lesson03::LESSON,
        skip: 0,
        expect: Fails {
            check: 6,
            headline: "服务器在 stderr 上报了错,没有回复",
            says: &["invalid utf-8", "from_utf8_lossy"],
        },
        within: secs(4),
    },
    Case {
        program: "fixture-udp-loop-send-without-address",
        mistake: "用 send 而不是 send_to 回复",
        lesson: &lesson03::LESSON,
        skip: 0,
        expect: Fails {
            check: 2,
            headline: "服务器在 stderr 上报了错,没有回复",
            says: &["send_to(数据, 地址)"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-udp-loop-debug-log",
        mistake: "（正确）用 {:?} 打印文字，地址在后面",
        lesson: &lesson03::LESSON,
        skip: 0,
        expect: Passes,
        within: secs(4),
    },
    Case {
        program: "fixture-udp-loop-small-buffer",
        mistake: "循环服务器只准备 500 字节的缓冲区",
        lesson: &lesson03::LESSON,
        skip: 0,
        expect: Fails {
            check: 5,
            headline: "回复被截断了:发出 8000 字节,只收回 500 字节",
            says: &["65507"],
        },
        within: secs(4),
    },
    Case {
        program: "fixture-udp-server-english",
        mistake: "回复一次就退出（第 1 课的写法）",
        lesson: &lesson03::LESSON,
        skip: 0,
        expect: Fails {
            check: 3,
            headline: "服务器退出了",
            says: &["已退出,退出码 0", "loop"],
        },
        within: secs(4),
    },
    Case {
        program: "fixture-crash",
        mistake: "启动时就 panic 了",
        lesson: &lesson03::LESSON,
        skip: 0,
        expect: Fails {
            check: 1,
            headline: "服务器还没打印地址就退出了",
            says: &["退出码 101"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-udp-loop-ignores-host",
        mistake: "不管 --host，总是绑定 127.0.0.1",
        lesson: &lesson03::LESSON,
        skip: 0,
        expect: Fails {
            check: 8,
            headline: "用 --host ::1 启动,服务器却没有绑定在 ::1 上",
            says: &["不要写死 127.0.0.1"],
        },
        within: secs(4),
    },
    // ---- 第 4 课 ----
    Case {
        program: "fixture-tcp-server-one-read",
        mistake: "一次 read 就当一条消息",
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Fails {
            check: 4,
            headline: "回复不对",
            says: &["第二行", "TCP 是字节流", "read_until"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-tcp-server-write-once",
        mistake: "回复只调用一次 write",
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Fails {
            check: 7,
            headline: "回复不对",
            says: &["回复只到了一半", "write_all"],
        },
        within: secs(5),
    },
    Case {
        program: "fixture-tcp-server-exits-after-first",
        mistake: "服务完一个客户端就退出",
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Fails {
            check: 3,
            headline: "服务器退出了",
            says: &["已退出,退出码 0", "listener.incoming()"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-tcp-server-keeps-cr",
        mistake: "只去掉 \\n，留下 \\r",
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Fails {
            check: 10,
            headline: "回复不对",
            says: &["\\r\\n", "和紧挨在它前面的 \\r"],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-tcp-server-trims",
        mistake: "用 trim 去掉了所有空白",
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Fails {
            check: 10,
            headline: "回复不对",
            says: &["前后都有空格", "不要用 trim()"],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-tcp-server-no-limit",
        mistake: "一行不设上限",
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Fails {
            check: 11,
            headline: "超过 65536 字节的一行,服务器照样回复了",
            says: &["take(MAX_MESSAGE + 1)"],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-tcp-server-exits-on-error",
        mistake: "在循环里对 handle 的结果用 ?",
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Fails {
            check: 8,
            headline: "服务器退出了",
            says: &[
                "已退出,退出码 1",
                "WouldBlock",
                "不要用 ? 或 unwrap 把错误交出循环",
            ],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-tcp-server-read-line",
        mistake: "用 read_line 读一行",
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Fails {
            check: 9,
            headline: "服务器没有回复就关闭了连接",
            says: &[
                "警告: 处理 127.0.0.1:<端口> 时出错: stream did not contain valid UTF-8",
                "read_until",
            ],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-tcp-server-threaded",
        mistake: "（正确）每个客户端一个线程",
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Passes,
        within: secs(8),
    },
    Case {
        program: "fixture-tcp-server-wrong-format",
        mistake: "回复格式少了一个空格",
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Fails {
            check: 2,
            headline: "回复不对",
            says: &["的消息: "],
        },
        within: secs(4),
    },
    Case {
        program: "fixture-tcp-server-needs-newline",
        mistake: "没有换行的消息当成错误",
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Fails {
            check: 6,
            headline: "服务器没有回复就关闭了连接",
            says: &["EOF"],
        },
        within: secs(6),
    },
    Case {
        program: "fixture-tcp-server-no-timeout",
        mistake: "没有设读超时",
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Fails {
            check: 8,
            headline: "服务器没有回复",
            says: &["set_read_timeout"],
        },
        within: secs(10),
    },
    Case {
        program: "fixture-crash",
        mistake: "启动时就 panic 了",
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Fails {
            check: 1,
            headline: "服务器还没打印地址就退出了",
            says: &["退出码 101"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-tcp-server-ignores-host",
        mistake: "不管 --host，总是绑定 127.0.0.1",
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Fails {
            check: 12,
            headline: "用 --host ::1 启动,服务器却没有绑定在 ::1 上",
            says: &["不要写死 127.0.0.1"],
        },
        within: secs(6),
    },
    Case {
        program: "fixture-tcp-server-fixed-timeout",
        mistake: "读超时写死成 3 秒，不用 --timeout",
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Fails {
            check: 8,
            headline: "过了好一会儿,服务器还没有断开那个不说话的客户端",
            says: &["不要写死"],
        },
        within: secs(10),
    },
    Case {
        program: "fixture-tcp-server-no-empty-log",
        mistake: "什么也没发就走的客户端，日志里不记",
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Fails {
            check: 9,
            headline: "日志里没有那个什么也没发就走的客户端",
            says: &["Ok(0)"],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-tcp-server-per-read-timeout",
        mistake: "读超时只管每一次 read，不管一整行",
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Fails {
            check: 13,
            headline: "服务器一直在等这个慢吞吞的客户端",
            says: &["每一次 read,不是一整行"],
        },
        within: secs(8),
    },
    // ---- 第 5 课 ----
    Case {
        program: "fixture-tcp-client-panics-on-refusal",
        mistake: "连接被拒绝就 panic",
        lesson: &lesson05::LESSON,
        skip: 0,
        expect: Fails {
            check: 5,
            headline: "连接被拒绝时,客户端没有好好地报错退出",
            says: &["程序 panic 了", "ConnectionRefused", "拒绝"],
        },
        within: secs(5),
    },
    Case {
        program: "fixture-tcp-client-no-connect-timeout",
        mistake: "用没有期限的 connect",
        lesson: &lesson05::LESSON,
        skip: 0,
        expect: Fails {
            check: 8,
            headline: "连接一直没有应答时,客户端没有好好地超时退出",
            says: &["被评分器结束了", "connect_timeout"],
        },
        within: secs(12),
    },
    Case {
        program: "fixture-tcp-client-read-to-end",
        mistake: "用 read_to_end 读回复",
        lesson: &lesson05::LESSON,
        skip: 0,
        expect: Fails {
            check: 2,
            headline: "客户端收到了完整的回复行,却还在等连接关闭",
            says: &["自己的读超时", "read_until"],
        },
        within: secs(7),
    },
    Case {
        program: "fixture-tcp-client-untrimmed",
        mistake: "打印回复时没去掉换行",
        lesson: &lesson05::LESSON,
        skip: 0,
        expect: Fails {
            check: 2,
            headline: "客户端打印的回复后面多了 1 个字符",
            says: &["多出一个空行"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-tcp-client-keeps-cr",
        mistake: "打印回复时只去掉 \\n，留下 \\r",
        lesson: &lesson05::LESSON,
        skip: 0,
        expect: Fails {
            check: 7,
            headline: "客户端打印的回复后面多了 1 个字符",
            says: &["「\\r」", "留下了 \\r"],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-tcp-client-shutdown-both",
        mistake: "发完就 shutdown(Both)",
        lesson: &lesson05::LESSON,
        skip: 0,
        expect: Fails {
            check: 2,
            headline: "客户端没有打印完整的回复并正常退出",
            says: &["并没有关闭连接", "shutdown(Shutdown::Both)"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-tcp-client-plain-words",
        mistake: "（正确）发完关闭写方向，超时说成大白话",
        lesson: &lesson05::LESSON,
        skip: 0,
        expect: Passes,
        within: secs(8),
    },
    Case {
        program: "fixture-tcp-client-no-newline",
        mistake: "消息后面没有加换行",
        lesson: &lesson05::LESSON,
        skip: 0,
        expect: Fails {
            check: 1,
            headline: "客户端发来的消息没有以换行结束",
            says: &["\\n"],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-tcp-client-one-read",
        mistake: "像原教程那样只读一次",
        lesson: &lesson05::LESSON,
        skip: 0,
        expect: Fails {
            check: 3,
            headline: "客户端只打印了回复的一部分",
            says: &["TCP 是字节流"],
        },
        within: secs(5),
    },
    Case {
        program: "fixture-tcp-client-eof-is-error",
        mistake: "没有换行的回复当成错误",
        lesson: &lesson05::LESSON,
        skip: 0,
        expect: Fails {
            check: 4,
            headline: "客户端没有打印完整的回复并正常退出",
            says: &["退出码 1"],
        },
        within: secs(5),
    },
    Case {
        program: "fixture-tcp-client-no-read-timeout",
        mistake: "读回复没有期限",
        lesson: &lesson05::LESSON,
        skip: 0,
        expect: Fails {
            check: 6,
            headline: "服务器不回答时,客户端没有好好地超时退出",
            says: &["set_read_timeout"],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-tcp-client-ignores-host",
        mistake: "不管 --host，总是连 127.0.0.1",
        lesson: &lesson05::LESSON,
        skip: 0,
        expect: Fails {
            check: 9,
            headline: "客户端还没连上服务器就退出了",
            says: &["::1"],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-tcp-client-empty-is-reply",
        mistake: "一个字节也没读到，当成了空的回复",
        lesson: &lesson05::LESSON,
        skip: 0,
        expect: Fails {
            check: 10,
            headline: "服务器不回复就关闭了连接,客户端却没有好好地报错退出",
            says: &["这不是一个空的回复"],
        },
        within: secs(5),
    },
    Case {
        program: "fixture-tcp-client-small-limit",
        mistake: "回复最多只读 4096 字节",
        lesson: &lesson05::LESSON,
        skip: 0,
        expect: Fails {
            check: 3,
            headline: "客户端只打印了回复的一部分",
            says: &["TCP 是字节流"],
        },
        within: secs(5),
    },
    // ---- 第 6 课 ----
    // 服务器检查(第 1–9 项)的大多数例子来自 tests/fixtures/sound_chat.rs:一个写对了的服务器,
    // 每个例子只关掉一条规则;fixture-chat-variant 什么也不关,必须全部通过。第 7–9 项的例子
    // 跳过第 1–6 项(skip: 6),省下第 6 项的几秒钟;客户端的例子只测客户端的几项(skip: 9)。
    Case {
        program: "fixture-crash",
        mistake: "启动时就 panic 了",
        lesson: &lesson06::LESSON,
        skip: 0,
        expect: Fails {
            check: 1,
            headline: "服务器还没打印地址就退出了",
            says: &["退出码 101"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-chat-server-no-join-notice",
        mistake: "有人进来了，不告诉已经在里面的人",
        lesson: &lesson06::LESSON,
        skip: 0,
        expect: Fails {
            check: 2,
            headline: "alice 没有收到 bob 进入聊天室的通知",
            says: &["bob 和「进入」", "要告诉已经在里面的每一个人"],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-chat-server-colon",
        mistake: "转发的话写成「alice: 你好」",
        lesson: &lesson06::LESSON,
        skip: 0,
        expect: Fails {
            check: 2,
            headline: "bob 收到的一行和 alice 说的不一样",
            says: &[
                "bob 收到「alice: 你好,bob!我是 alice」",
                "左方括号、昵称、右方括号",
            ],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-chat-server-echo",
        mistake: "把话也发回给说话的人",
        lesson: &lesson06::LESSON,
        skip: 0,
        expect: Fails {
            check: 2,
            headline: "服务器把 alice 自己说的话又发回给了他",
            says: &["[alice] 你好,bob!我是 alice", "跳过说话的人自己"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-chat-server-thread-per-line",
        mistake: "每广播一行开一个新线程去写，同一个人的话顺序乱了",
        lesson: &lesson06::LESSON,
        skip: 0,
        expect: Fails {
            check: 3,
            headline: "三个人同时说话时,同一个人的话到了别人那里顺序乱了",
            says: &["顺序乱了", "一个写线程", "先进先出的信箱"],
        },
        within: secs(4),
    },
    Case {
        program: "fixture-chat-server-crash",
        mistake: "连接被重置就 panic，锁中毒",
        lesson: &lesson06::LESSON,
        skip: 0,
        expect: Fails {
            check: 4,
            headline: "alice 没有收到 dave 离开的通知(dave 的连接被重置了(RST),没有说 /quit)",
            says: &["Connection reset", "panic", "中毒"],
        },
        within: secs(4),
    },
    Case {
        program: "fixture-chat-server-dup-nick",
        mistake: "不查昵称有没有人在用",
        lesson: &lesson06::LESSON,
        skip: 0,
        expect: Fails {
            check: 5,
            headline: "昵称「alice」已经有人在用了,却又被接受了",
            says: &["不能和在线的人重名", "同一次加锁"],
        },
        within: secs(4),
    },
    Case {
        program: "fixture-chat-server-nick-bytes",
        mistake: "昵称的长度用 len() 数字节",
        lesson: &lesson06::LESSON,
        skip: 0,
        expect: Fails {
            check: 5,
            headline: "恰好 16 个字符的昵称「一二三四五六七八九十一二三四五六」被拒绝了",
            says: &["16 个字符(48 个字节)", "chars().count()"],
        },
        within: secs(4),
    },
    Case {
        program: "fixture-chat-server-drops-bad-nick",
        mistake: "昵称不合法就断开，不让他再报一个",
        lesson: &lesson06::LESSON,
        skip: 0,
        expect: Fails {
            check: 5,
            headline: "昵称被拒绝以后,服务器断开了连接",
            says: &["然后服务器关闭了这个连接", "不要断开他"],
        },
        within: secs(4),
    },
    Case {
        program: "fixture-chat-server-blocking",
        mistake: "广播时直接 write_all",
        lesson: &lesson06::LESSON,
        skip: 0,
        expect: Fails {
            check: 6,
            headline: "一个不读消息的人,让别人也收不到消息了",
            says: &[
                "--write-timeout 2",
                "不读消息",
                "写线程",
                "背压",
                "set_write_timeout",
            ],
        },
        within: secs(10),
    },
    Case {
        program: "fixture-chat-server-unbounded",
        mistake: "信箱没有上限、写没有超时，从不请走不读消息的人",
        lesson: &lesson06::LESSON,
        skip: 0,
        expect: Fails {
            check: 6,
            headline: "一个从来不读消息的人,一直没有被请出聊天室",
            says: &["跟不上", "没有上限的信箱", "set_write_timeout"],
        },
        within: secs(10),
    },
    Case {
        program: "fixture-chat-server-kicks-when-full",
        mistake: "信箱按行数设上限，满了就请他走",
        lesson: &lesson06::LESSON,
        skip: 0,
        expect: Fails {
            check: 6,
            headline: "bob 一直在读消息,却被请出了聊天室",
            says: &["然后服务器关闭了 bob 的连接", "按时间判断", "背压"],
        },
        within: secs(5),
    },
    Case {
        program: "fixture-chat-server-list-without-self",
        mistake: "/list 的名单里没有发命令的人自己",
        lesson: &lesson06::LESSON,
        skip: 6,
        expect: Fails {
            check: 1,
            headline: "「/list」的名单不对:里面没有发命令的 alice 自己",
            says: &[
                "alice 收到「* 在线 2 人: bob, carol」",
                "包括发命令的人自己",
            ],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-chat-server-nick-steals",
        mistake: "/nick 不查重名",
        lesson: &lesson06::LESSON,
        skip: 6,
        expect: Fails {
            check: 1,
            headline: "bob 改成了别人正在用的昵称 carol",
            says: &["收到「* 好的,以后你就叫 carol 了」", "/nick 也要检查重名"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-chat-server-msg-to-all",
        mistake: "/msg 的私信广播给了所有人",
        lesson: &lesson06::LESSON,
        skip: 6,
        expect: Fails {
            check: 1,
            headline: "私信被别人看到了",
            says: &[
                "carol 也收到了「[bob 悄悄对你说] 今晚八点老地方」",
                "不要调用广播",
            ],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-chat-server-unknown-as-text",
        mistake: "不认识的命令当成普通的话广播出去",
        lesson: &lesson06::LESSON,
        skip: 6,
        expect: Fails {
            check: 1,
            headline: "carol 没有收到未知命令「/dance」的错误提示",
            says: &["\"/dance\\n/list\\n\"", "不要当成普通的话广播出去"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-chat-server-quit-stays",
        mistake: "/quit 以后不离开读循环，连接一直开着",
        lesson: &lesson06::LESSON,
        skip: 6,
        expect: Fails {
            check: 1,
            headline: "carol 发了 /quit,服务器却没有关闭她的连接",
            says: &["/quit 之后的「/list」也得到了回复", "离开读循环"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-chat-server-no-clean",
        mistake: "转发前不清理控制字符",
        lesson: &lesson06::LESSON,
        skip: 6,
        expect: Fails {
            check: 2,
            headline: "控制字符被原样转发给了别人",
            says: &["[alice] \\x1b[2J", "is_control"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-chat-server-control-only",
        mistake: "只用 char::is_control 清理，不管看不见的格式字符",
        lesson: &lesson06::LESSON,
        skip: 6,
        expect: Fails {
            check: 2,
            headline: "看不见的格式字符被原样转发给了别人",
            says: &["里面有 U+202E", "char::is_control 只认 Cc 类"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-chat-server-read-line",
        mistake: "用 read_line 读一行，坏的 UTF-8 就断开说话的人",
        lesson: &lesson06::LESSON,
        skip: 6,
        expect: Fails {
            check: 2,
            headline: "alice 发了一行带坏 UTF-8 字节的话,就被断开了",
            says: &["bob 收到「* alice 离开了」", "from_utf8_lossy"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-chat-server-limit-in-chars",
        mistake: "一行的上限数的是字符，不是字节",
        lesson: &lesson06::LESSON,
        skip: 6,
        expect: Fails {
            check: 2,
            headline: "1025 字节的一行被转发给了别人",
            says: &["只有 343 个字符", "不要用 chars().count()"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-chat-server-reads-whole-line",
        mistake: "读一行不设上限，读到换行以后才量长度",
        lesson: &lesson06::LESSON,
        skip: 6,
        expect: Fails {
            check: 2,
            headline: "一个一直不发换行的人,发了 4200 字节,服务器还在等他的换行",
            says: &["4200 字节", "take(1024 + 2)"],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-chat-server-no-cap",
        mistake: "不管 --max-clients",
        lesson: &lesson06::LESSON,
        skip: 6,
        expect: Fails {
            check: 3,
            headline: "聊天室满了,新来的人却没有被请走",
            says: &["--max-clients 3", "不开线程"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-chat-server-no-nick-timeout",
        mistake: "报昵称没有时限",
        lesson: &lesson06::LESSON,
        skip: 6,
        expect: Fails {
            check: 3,
            headline: "一直不报昵称的连接,到时没有被断开",
            says: &["连接还开着,也没有收到「! …」", "报昵称没有时限"],
        },
        within: secs(6),
    },
    Case {
        program: "fixture-chat-server-nick-read-timeout",
        mistake: "报昵称的时限用 set_read_timeout，只管一次 read",
        lesson: &lesson06::LESSON,
        skip: 6,
        expect: Fails {
            check: 3,
            headline: "每隔一会儿发一个字节、永远报不完昵称的连接,到时没有被断开",
            says: &["每隔 300 毫秒发一个字节", "set_read_timeout 只管一次 read"],
        },
        within: secs(6),
    },
    Case {
        program: "fixture-chat-server-seat-leak",
        mistake: "有人走了，不还座位",
        lesson: &lesson06::LESSON,
        skip: 6,
        expect: Fails {
            check: 3,
            headline: "有人走了,座位却没有空出来",
            says: &["每次都收到「! …」被请走了", "座位还回去"],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-chat-variant",
        mistake: "（正确）换了写法和措辞的服务器和客户端（通知换了说法、信箱只有 64 KiB、没有快路、报昵称的时限由一个看门的线程管、客户端不上色）",
        lesson: &lesson06::LESSON,
        skip: 0,
        expect: Passes,
        within: secs(12),
    },
    Case {
        program: "fixture-chat-client-nick-command",
        mistake: "报昵称时发的是「/nick 昵称」",
        lesson: &lesson06::LESSON,
        skip: 9,
        expect: Fails {
            check: 1,
            headline: "客户端报的昵称不对",
            says: &["收到「/nick 小红」", "只有昵称本身"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-chat-client-prefixes-nick",
        mistake: "打的话前面自己加上 `[昵称] ` 再发出去",
        lesson: &lesson06::LESSON,
        skip: 9,
        expect: Fails {
            check: 1,
            headline: "客户端发出的一行和键盘上打的不一样",
            says: &["收到「[小红] 大家好,我是小红」", "服务器转发时会替你加上"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-chat-client-colour",
        mistake: "客户端不管 stdout 是不是终端都输出颜色",
        lesson: &lesson06::LESSON,
        skip: 9,
        expect: Fails {
            check: 2,
            headline: "输出里有颜色控制码:stdout 不是终端时不要输出颜色",
            says: &["IsTerminal", "set_override"],
        },
        within: secs(4),
    },
    Case {
        program: "fixture-chat-client-one-thread",
        mistake: "客户端只用一个线程",
        lesson: &lesson06::LESSON,
        skip: 9,
        expect: Fails {
            check: 2,
            headline: "客户端没有打印服务器发来的消息",
            says: &["两个线程", "[小明] 小红,在吗?"],
        },
        within: secs(8),
    },
    Case {
        program: "fixture-chat-client-no-backoff",
        mistake: "断线后立刻重连，一点也不等",
        lesson: &lesson06::LESSON,
        skip: 9,
        expect: Fails {
            check: 3,
            headline: "客户端重连之前一点也没有等",
            says: &["至少等 100 毫秒", "退避"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-chat-client-first-nick",
        mistake: "重连时报的是启动时的昵称，不是最后一次 /nick 的",
        lesson: &lesson06::LESSON,
        skip: 9,
        expect: Fails {
            check: 3,
            headline: "重连以后,客户端报的不是最后用的昵称",
            says: &["收到「小红」", "就报新名字"],
        },
        within: secs(3),
    },
    Case {
        program: "fixture-chat-client-joins-receiver",
        mistake: "Ctrl-D 以后等收消息的线程结束，却没有先关掉连接",
        lesson: &lesson06::LESSON,
        skip: 9,
        expect: Fails {
            check: 4,
            headline: "按下 Ctrl-D 以后,客户端一直等到服务器关了连接才退出",
            says: &["评分器关掉连接以后,它才退出", "join"],
        },
        within: secs(9),
    },
    Case {
        program: "fixture-chat-client-full-exits-zero",
        mistake: "聊天室满了，把「! …」当普通消息打印，以退出码 0 退出",
        lesson: &lesson06::LESSON,
        skip: 9,
        expect: Fails {
            check: 5,
            headline: "聊天室满了,客户端却以退出码 0 退出",
            says: &["退出码却是 0", "ExitCode::FAILURE"],
        },
        within: secs(3),
    },
];

/// 第 `lesson` 课的例子。
pub fn of(lesson: &Lesson) -> impl Iterator<Item = &'static Case> + '_ {
    CASES
        .iter()
        .filter(move |case| case.lesson.number == lesson.number)
}

/// 一条提示(诊断里「提示:」那一段)最有标志性的一句话,以及该得到这条提示的例子。
///
/// 自测核对它:列出的每个例子的信息里都有这句话,别的例子的信息里都没有。
/// 提示就这样和它描述的错误绑在一起:改坏了一条提示,或者一条提示说给了不该听的人,自测都会发现。
pub struct Hint {
    pub marker: &'static str,
    pub fixtures: &'static [&'static str],
}

/// 每一课的提示和它们该说给谁听。
pub const HINTS: &[Hint] = &[
    Hint {
        marker: "如果程序先去接收数据再打印",
        fixtures: &["fixture-silent"],
    },
    Hint {
        marker: "改用 ? 把错误交给调用者",
        fixtures: &["fixture-crash"],
    },
    Hint {
        marker: "如果 stdout 里也没有「收到」之类的记录",
        fixtures: &["fixture-udp-server-sleeps"],
    },
    Hint {
        marker: "不要写死地址或端口",
        fixtures: &["fixture-udp-server-fixed-port"],
    },
    Hint {
        marker: "按 UDP 最大数据报(65507 字节)准备缓冲区",
        fixtures: &[
            "fixture-udp-server-truncates",
            "fixture-udp-loop-small-buffer",
            "fixture-udp-client-small-buffer",
        ],
    },
    Hint {
        marker: "它永远不会失败",
        fixtures: &[
            "fixture-udp-server-unwraps-utf8",
            "fixture-udp-client-unwraps-utf8",
            "fixture-udp-loop-strict-utf8",
        ],
    },
    Hint {
        marker: "发送方地址就是 recv_from 返回的第二个值",
        fixtures: &["fixture-udp-server-logs-length"],
    },
    Hint {
        marker: "永远运行的版本是第 3 课",
        fixtures: &["fixture-udp-loop-debug-log"],
    },
    Hint {
        marker: "绑定失败是正常的运行时错误",
        fixtures: &["fixture-udp-server-panics-on-bind"],
    },
    Hint {
        marker: "recv_from 默认会永远等下去",
        fixtures: &["fixture-udp-client-no-timeout"],
    },
    Hint {
        marker: "这是缓冲区里没用到的部分",
        fixtures: &["fixture-udp-client-prints-whole-buffer"],
    },
    Hint {
        marker: "send 收到的 message 已经是消息的字节了",
        fixtures: &["fixture-udp-client-sends-newline"],
    },
    Hint {
        marker: "不要拿它来 bind",
        fixtures: &["fixture-udp-client-binds-server-port"],
    },
    Hint {
        marker: "不要写死(也不要用参数的默认值)",
        fixtures: &["fixture-udp-client-fixed-timeout"],
    },
    Hint {
        marker: "不要把第一个客户端的地址存起来反复使用",
        fixtures: &["fixture-udp-loop-first-client"],
    },
    Hint {
        marker: "只说明对方发来了一个空数据报,不是 EOF",
        fixtures: &["fixture-udp-loop-skips-empty"],
    },
    Hint {
        marker: "所以数据报里有换行也只占一行",
        fixtures: &["fixture-udp-loop-raw-log"],
    },
    Hint {
        marker: "打印 &[u8] 就是这样",
        fixtures: &["fixture-udp-loop-logs-bytes"],
    },
    Hint {
        marker: "send 不知道该发给谁",
        fixtures: &["fixture-udp-loop-send-without-address"],
    },
    Hint {
        marker: "没有循环",
        fixtures: &[
            "fixture-udp-server-english",
            "fixture-tcp-server-exits-after-first",
        ],
    },
    Hint {
        marker: "不能「读一次就当作一条消息」",
        fixtures: &["fixture-tcp-server-one-read"],
    },
    Hint {
        marker: "返回值才是真正写出的字节数",
        fixtures: &["fixture-tcp-server-write-once"],
    },
    Hint {
        marker: "不要用 ? 或 unwrap 把错误交出循环",
        fixtures: &["fixture-tcp-server-exits-on-error"],
    },
    Hint {
        marker: "只去掉 \\n 和紧挨在它前面的 \\r",
        fixtures: &["fixture-tcp-server-keeps-cr", "fixture-tcp-server-trims"],
    },
    Hint {
        marker: "一个一直不发换行的客户端能把服务器的内存吃光",
        fixtures: &["fixture-tcp-server-no-limit"],
    },
    Hint {
        marker: "常见的原因:把没有换行的消息当成了错误",
        fixtures: &[
            "fixture-tcp-server-needs-newline",
            "fixture-tcp-server-read-line",
        ],
    },
    Hint {
        marker: "服务器在等那个一直不说话的客户端",
        fixtures: &["fixture-tcp-server-no-timeout"],
    },
    Hint {
        marker: "的消息: <文字>」加一个换行",
        fixtures: &["fixture-tcp-server-wrong-format"],
    },
    Hint {
        marker: "服务器没启动是再常见不过的情况",
        fixtures: &["fixture-tcp-client-panics-on-refusal"],
    },
    Hint {
        marker: "TcpStream::connect 没有期限",
        fixtures: &["fixture-tcp-client-no-connect-timeout"],
    },
    Hint {
        marker: "客户端多半在等连接关闭",
        fixtures: &["fixture-tcp-client-read-to-end"],
    },
    Hint {
        marker: "多出一个空行",
        fixtures: &["fixture-tcp-client-untrimmed"],
    },
    Hint {
        marker: "只去掉 \\n,留下了 \\r",
        fixtures: &["fixture-tcp-client-keeps-cr"],
    },
    Hint {
        marker: "shutdown(Shutdown::Both)",
        fixtures: &["fixture-tcp-client-shutdown-both"],
    },
    Hint {
        marker: "服务器靠它知道消息到哪里为止",
        fixtures: &["fixture-tcp-client-no-newline"],
    },
    Hint {
        marker: "一次 read 只拿到其中一段",
        fixtures: &[
            "fixture-tcp-client-one-read",
            "fixture-tcp-client-small-limit",
        ],
    },
    Hint {
        marker: "也可能是读的上限太小",
        fixtures: &["fixture-tcp-client-small-limit"],
    },
    Hint {
        marker: "已经读到的内容就是完整的回复",
        fixtures: &["fixture-tcp-client-eof-is-error"],
    },
    Hint {
        marker: "read 默认会永远等下去",
        fixtures: &["fixture-tcp-client-no-read-timeout"],
    },
    // ---- 第 6 课 ----
    Hint {
        marker: "要告诉已经在里面的每一个人",
        fixtures: &["fixture-chat-server-no-join-notice"],
    },
    Hint {
        marker: "左方括号、昵称、右方括号",
        fixtures: &["fixture-chat-server-colon"],
    },
    Hint {
        marker: "广播时要跳过说话的人自己",
        fixtures: &["fixture-chat-server-echo"],
    },
    Hint {
        marker: "每个收信人只能有一个「写的人」",
        fixtures: &["fixture-chat-server-thread-per-line"],
    },
    Hint {
        marker: "锁会「中毒」",
        fixtures: &["fixture-chat-server-crash"],
    },
    Hint {
        marker: "查「有没有人在用」和「把他加进名单」要在同一次加锁里做",
        fixtures: &["fixture-chat-server-dup-nick"],
    },
    Hint {
        marker: "一个汉字是 1 个字符、3 个字节",
        fixtures: &["fixture-chat-server-nick-bytes"],
    },
    Hint {
        marker: "他多半只是打错了",
        fixtures: &["fixture-chat-server-drops-bad-nick"],
    },
    Hint {
        marker: "write_all 就一直等",
        fixtures: &["fixture-chat-server-blocking"],
    },
    Hint {
        marker: "没有上限的信箱(mpsc::channel)不会卡住房间",
        fixtures: &["fixture-chat-server-unbounded"],
    },
    Hint {
        marker: "「跟不上」要按时间判断",
        fixtures: &["fixture-chat-server-kicks-when-full"],
    },
    Hint {
        marker: "不要像广播那样跳过他",
        fixtures: &["fixture-chat-server-list-without-self"],
    },
    Hint {
        marker: "/nick 也要检查重名",
        fixtures: &["fixture-chat-server-nick-steals"],
    },
    Hint {
        marker: "/msg 只发给一个人,不要调用广播",
        fixtures: &["fixture-chat-server-msg-to-all"],
    },
    Hint {
        marker: "又不是已知命令的行",
        fixtures: &["fixture-chat-server-unknown-as-text"],
    },
    Hint {
        marker: "然后离开读循环(return 或 break)",
        fixtures: &["fixture-chat-server-quit-stays"],
    },
    Hint {
        marker: "谁都能遥控别人的终端",
        fixtures: &["fixture-chat-server-no-clean"],
    },
    Hint {
        marker: "char::is_control 只认 Cc 类",
        fixtures: &["fixture-chat-server-control-only"],
    },
    Hint {
        marker: "read_line 遇到坏字节会返回 InvalidData 错误",
        fixtures: &["fixture-chat-server-read-line"],
    },
    Hint {
        marker: "上限数的是字节,不是字符",
        fixtures: &["fixture-chat-server-limit-in-chars"],
    },
    Hint {
        marker: "读到换行以后再量长度,已经晚了",
        fixtures: &["fixture-chat-server-reads-whole-line"],
    },
    Hint {
        marker: "accept 之后先数一数",
        fixtures: &["fixture-chat-server-no-cap"],
    },
    Hint {
        marker: "也可能只在收到字节以后才看时间",
        fixtures: &["fixture-chat-server-no-nick-timeout"],
    },
    Hint {
        marker: "每次 read 都不超时,就能一直占着座位",
        fixtures: &["fixture-chat-server-nick-read-timeout"],
    },
    Hint {
        marker: "要把它占的座位还回去",
        fixtures: &["fixture-chat-server-seat-leak"],
    },
    Hint {
        marker: "只有昵称本身,前后不加别的",
        fixtures: &["fixture-chat-client-nick-command"],
    },
    Hint {
        marker: "服务器转发时会替你加上「[昵称] 」",
        fixtures: &["fixture-chat-client-prefixes-nick"],
    },
    Hint {
        marker: "用 std::io::IsTerminal 判断 stdout 是不是终端",
        fixtures: &["fixture-chat-client-colour"],
    },
    Hint {
        marker: "只用一个线程的话,它正卡在「读键盘」上",
        fixtures: &["fixture-chat-client-one-thread"],
    },
    Hint {
        marker: "等的时间逐次加倍(退避)",
        fixtures: &["fixture-chat-client-no-backoff"],
    },
    Hint {
        marker: "用户用 /nick 改过名,就报新名字",
        fixtures: &["fixture-chat-client-first-nick"],
    },
    Hint {
        marker: "直到服务器关了连接才醒",
        fixtures: &["fixture-chat-client-joins-receiver"],
    },
    Hint {
        marker: "脚本和老师的评分工具都靠退出码知道「没成」",
        fixtures: &["fixture-chat-client-full-exits-zero"],
    },
];
