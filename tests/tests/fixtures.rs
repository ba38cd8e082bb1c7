//! 评分框架的自测:每个「故意写错的程序」都必须在正确的那一项检查、在期限内、
//! 带着说出病因的标题和信息失败;每个「换了一种写法的正确程序」都必须全部通过。
//! 评分器能抓住前者,才能抓住学员的同类错误;放过后者,才不会冤枉写对了的学员。
//!
//! 所有的例子都在下面的 [`CASES`] 表里,由一个测试同时运行(它们大多在等期限,
//! 并行跑才快),跑完一起报告:哪个没在该失败的地方失败、标题不对、信息里缺了什么,
//! 以及每个例子用了多久。`COURSE_FIXTURE_RUNS=3` 让每个例子跑三遍,并确认三遍的信息
//! 一字不差(端口号除外):同一个程序,每次都该得到同样的诊断。

use std::path::Path;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use harness::grader::STARTUP;
use harness::{Lesson, Status, lesson01, lesson02, lesson03, lesson04, lesson05, lesson06};

/// 一个例子:用哪一课的评分器、给哪个程序打分,期望什么结果。
struct Case {
    /// 程序(`tests/fixtures/` 里的一个 bin)。
    program: &'static str,
    lesson: &'static Lesson,
    /// 只用这一课从第几项开始的检查(比如只测第 6 课的客户端那几项);通常是 0。
    skip: usize,
    expect: Expect,
    /// 最多用多久得出结论(包括所有检查)。
    within: Duration,
}

enum Expect {
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
const CASES: &[Case] = &[
    // ---- 第 1 课 ----
    Case {
        program: env!("CARGO_BIN_EXE_fixture-silent"),
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
        program: env!("CARGO_BIN_EXE_fixture-crash"),
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
        program: env!("CARGO_BIN_EXE_fixture-udp-server-sleeps"),
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
        program: env!("CARGO_BIN_EXE_fixture-udp-server-fixed-port"),
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
        program: env!("CARGO_BIN_EXE_fixture-udp-server-truncates"),
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
        program: env!("CARGO_BIN_EXE_fixture-udp-server-unwraps-utf8"),
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
        program: env!("CARGO_BIN_EXE_fixture-udp-server-english"),
        lesson: &lesson01::LESSON,
        skip: 0,
        expect: Passes,
        within: secs(3),
    },
    // ---- 第 2 课 ----
    Case {
        program: env!("CARGO_BIN_EXE_fixture-udp-client-no-timeout"),
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
        program: env!("CARGO_BIN_EXE_fixture-udp-client-prints-whole-buffer"),
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
        program: env!("CARGO_BIN_EXE_fixture-udp-client-sends-newline"),
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
        program: env!("CARGO_BIN_EXE_fixture-udp-client-binds-server-port"),
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
        program: env!("CARGO_BIN_EXE_fixture-udp-client-fixed-timeout"),
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
        program: env!("CARGO_BIN_EXE_fixture-udp-client-english"),
        lesson: &lesson02::LESSON,
        skip: 0,
        expect: Passes,
        within: secs(4),
    },
    // ---- 第 3 课 ----
    Case {
        program: env!("CARGO_BIN_EXE_fixture-udp-loop-first-client"),
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
        program: env!("CARGO_BIN_EXE_fixture-udp-loop-skips-empty"),
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
        program: env!("CARGO_BIN_EXE_fixture-udp-loop-raw-log"),
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
        program: env!("CARGO_BIN_EXE_fixture-udp-loop-logs-bytes"),
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
        program: env!("CARGO_BIN_EXE_fixture-udp-loop-strict-utf8"),
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
        program: env!("CARGO_BIN_EXE_fixture-udp-loop-send-without-address"),
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
        program: env!("CARGO_BIN_EXE_fixture-udp-loop-debug-log"),
        lesson: &lesson03::LESSON,
        skip: 0,
        expect: Passes,
        within: secs(4),
    },
    // ---- 第 4 课 ----
    Case {
        program: env!("CARGO_BIN_EXE_fixture-tcp-server-one-read"),
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
        program: env!("CARGO_BIN_EXE_fixture-tcp-server-write-once"),
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
        program: env!("CARGO_BIN_EXE_fixture-tcp-server-exits-after-first"),
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
        program: env!("CARGO_BIN_EXE_fixture-tcp-server-keeps-cr"),
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
        program: env!("CARGO_BIN_EXE_fixture-tcp-server-trims"),
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Fails {
            check: 10,
            headline: "回复不对",
            says: &["前后有空白", "不要用 trim()"],
        },
        within: secs(8),
    },
    Case {
        program: env!("CARGO_BIN_EXE_fixture-tcp-server-no-limit"),
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
        program: env!("CARGO_BIN_EXE_fixture-tcp-server-exits-on-error"),
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
        program: env!("CARGO_BIN_EXE_fixture-tcp-server-read-line"),
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
        program: env!("CARGO_BIN_EXE_fixture-tcp-server-threaded"),
        lesson: &lesson04::LESSON,
        skip: 0,
        expect: Passes,
        within: secs(8),
    },
    // ---- 第 5 课 ----
    Case {
        program: env!("CARGO_BIN_EXE_fixture-tcp-client-panics-on-refusal"),
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
        program: env!("CARGO_BIN_EXE_fixture-tcp-client-no-connect-timeout"),
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
        program: env!("CARGO_BIN_EXE_fixture-tcp-client-read-to-end"),
        lesson: &lesson05::LESSON,
        skip: 0,
        expect: Fails {
            check: 2,
            headline: "客户端收到了完整的回复行,却还在等连接关闭",
            says: &["自己的读超时", "read_until"],
        },
        within: secs(5),
    },
    Case {
        program: env!("CARGO_BIN_EXE_fixture-tcp-client-untrimmed"),
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
        program: env!("CARGO_BIN_EXE_fixture-tcp-client-keeps-cr"),
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
        program: env!("CARGO_BIN_EXE_fixture-tcp-client-shutdown-both"),
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
        program: env!("CARGO_BIN_EXE_fixture-tcp-client-plain-words"),
        lesson: &lesson05::LESSON,
        skip: 0,
        expect: Passes,
        within: secs(8),
    },
    // ---- 第 6 课 ----
    Case {
        program: env!("CARGO_BIN_EXE_fixture-chat-server-echo"),
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
        program: env!("CARGO_BIN_EXE_fixture-chat-server-crash"),
        lesson: &lesson06::LESSON,
        skip: 0,
        expect: Fails {
            check: 4,
            headline: "alice 没有收到dave 离开的通知(dave的连接被重置(RST),没有说 /quit)",
            says: &["Connection reset", "panic", "中毒"],
        },
        within: secs(9),
    },
    Case {
        program: env!("CARGO_BIN_EXE_fixture-chat-server-blocking"),
        lesson: &lesson06::LESSON,
        skip: 0,
        expect: Fails {
            check: 5,
            headline: "一个不读消息的人,让别人也收不到消息了",
            says: &["不读消息", "sync_channel", "try_send"],
        },
        within: secs(20),
    },
    Case {
        program: env!("CARGO_BIN_EXE_fixture-chat-client-one-thread"),
        lesson: &lesson06::LESSON,
        skip: 8,
        expect: Fails {
            check: 2,
            headline: "客户端没有打印服务器发来的消息",
            says: &["两个线程", "[小明] 小红,在吗?"],
        },
        within: secs(8),
    },
];

/// 几个线程同时出错的程序:它们自己的输出(哪个线程先 panic)每次都可能不一样。
/// 比较几遍的信息时,不看这些程序自己的输出,只看评分器说的话。
const RACY: &[&str] = &[env!("CARGO_BIN_EXE_fixture-chat-server-crash")];

/// 同时最多运行这么多个例子。它们大多在等期限,CPU 用得很少。
const AT_ONCE: usize = 8;

/// 一个例子跑一遍的结果。
struct Outcome {
    elapsed: Duration,
    /// 不符合期望时,说明哪里不符合。
    problem: Option<String>,
    /// 第一个失败的检查的完整信息(端口号换成了 `<端口>`),用来比较几遍是否一样。
    message: String,
}

fn run_case(case: &Case) -> Outcome {
    let lesson = Lesson {
        steps: &case.lesson.steps[case.skip..],
        ..*case.lesson
    };
    let started = Instant::now();
    let report = harness::run(&lesson, Path::new(case.program), "lesson-xx");
    let elapsed = started.elapsed();
    let failed = report.first_failure();
    let message = failed
        .and_then(|f| f.message.as_deref())
        .map(normalize)
        .unwrap_or_default();
    let mut problems = Vec::new();
    match (&case.expect, failed) {
        (Passes, None) => {}
        (Passes, Some(failed)) => problems.push(format!(
            "应该全部通过,却在第 {} 项失败:\n{message}",
            failed.number
        )),
        (Fails { check, .. }, None) => {
            problems.push(format!("应该在第 {check} 项失败,却全部通过了"))
        }
        (
            Fails {
                check,
                headline,
                says,
            },
            Some(failed),
        ) => {
            if failed.number != *check {
                problems.push(format!(
                    "应该在第 {check} 项失败,却在第 {} 项",
                    failed.number
                ));
            }
            let got = normalize(failed.headline.as_deref().unwrap_or_default());
            if got != *headline {
                problems.push(format!("标题应该是「{headline}」,却是「{got}」"));
            }
            for phrase in *says {
                if !message.contains(phrase) {
                    problems.push(format!("信息里应该有「{phrase}」"));
                }
            }
            if !problems.is_empty() {
                problems.push(format!("完整的信息:\n{message}"));
            }
        }
    }
    if elapsed > case.within {
        problems.push(format!(
            "用了 {:.1} 秒,超过了 {} 秒",
            elapsed.as_secs_f64(),
            case.within.as_secs()
        ));
    }
    let statuses_ok = report
        .steps
        .iter()
        .skip_while(|s| s.status == Status::Passed)
        .skip(1)
        .all(|s| s.status == Status::NotRun);
    if !statuses_ok {
        problems.push("第一个失败之后的检查不该再运行".to_owned());
    }
    Outcome {
        elapsed,
        problem: (!problems.is_empty()).then(|| problems.join("\n")),
        message,
    }
}

/// 把每次都不一样的东西(端口号)换成占位符,剩下的应该每次都一字不差。
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..i]);
        let digits = rest[i..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(rest.len() - i, |n| n);
        let number = &rest[i..i + digits];
        // 端口:紧跟在 IP 地址的冒号后面(127.0.0.1:40000、[::1]:40000)。
        let is_port = out.ends_with(':')
            && (out[..out.len() - 1].ends_with(|c: char| c.is_ascii_digit())
                || out[..out.len() - 1].ends_with(']'));
        let after_flag = out.ends_with("--port ") || out.ends_with("端口 ");
        if (is_port || after_flag) && digits >= 4 {
            out.push_str("<端口>");
        } else {
            out.push_str(number);
        }
        rest = &rest[i + digits..];
    }
    out.push_str(rest);
    out
}

/// 每个故意写错的程序都在它该失败的那一项、带着该有的标题失败;每个写法不同的
/// 正确程序都全部通过;都在期限内。
#[test]
fn every_fixture_gets_its_verdict() {
    let runs: usize = std::env::var("COURSE_FIXTURE_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
        .max(1);
    let jobs: Vec<(usize, usize)> = (0..CASES.len())
        .flat_map(|case| (0..runs).map(move |run| (case, run)))
        .collect();
    let results: Mutex<Vec<(usize, usize, Outcome)>> = Mutex::new(Vec::new());
    let next = Mutex::new(0usize);
    thread::scope(|scope| {
        for _ in 0..AT_ONCE.min(jobs.len()) {
            scope.spawn(|| {
                loop {
                    let job = {
                        let mut next = next.lock().unwrap();
                        let job = jobs.get(*next).copied();
                        *next += 1;
                        job
                    };
                    let Some((case, run)) = job else { return };
                    let outcome = run_case(&CASES[case]);
                    results.lock().unwrap().push((case, run, outcome));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(case, run, _)| (*case, *run));

    let mut problems = Vec::new();
    println!("例子                                          结论                     用时");
    for (case, run, outcome) in &results {
        let c = &CASES[*case];
        let name = Path::new(c.program)
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let verdict = match &c.expect {
            Passes => format!("第 {} 课全部通过", c.lesson.display_number()),
            Fails { check, .. } => {
                format!("第 {} 课第 {check} 项失败", c.lesson.display_number())
            }
        };
        println!(
            "{name:<45} {verdict:<22} {:>5.2} 秒",
            outcome.elapsed.as_secs_f64()
        );
        if let Some(problem) = &outcome.problem {
            problems.push(format!("✗ {name}(第 {} 遍):\n{problem}", run + 1));
        }
        if *run > 0 {
            let first = &results
                .iter()
                .find(|(other, r, _)| other == case && *r == 0)
                .expect("第一遍一定在")
                .2;
            let comparable = |message: &str| {
                let message = same_apart_from_timing(message);
                match RACY.contains(&c.program) {
                    true => without_program_output(&message),
                    false => message,
                }
            };
            if comparable(&first.message) != comparable(&outcome.message) {
                problems.push(format!(
                    "✗ {name}:第 {} 遍的信息和第 1 遍不一样\n第 1 遍:\n{}\n第 {} 遍:\n{}",
                    run + 1,
                    first.message,
                    run + 1,
                    outcome.message
                ));
            }
        }
    }
    let mut times: Vec<f64> = results
        .iter()
        .filter(|(case, _, _)| matches!(CASES[*case].expect, Fails { .. }))
        .map(|(_, _, o)| o.elapsed.as_secs_f64())
        .collect();
    times.sort_by(f64::total_cmp);
    if let (Some(median), Some(max)) = (times.get(times.len() / 2), times.last()) {
        println!("得出失败结论的时间:中位数 {median:.2} 秒,最长 {max:.2} 秒");
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}

/// 比较几遍的信息时,除了端口号,也不看和快慢有关的数字:量出来的秒数、毫秒数,
/// 读得慢时对方恰好写出了多少字节(「收到 "…" (12288 字节)」),
/// 以及被堵住之前恰好送到了几句(「bob 只收到了前 2345 句」)。
fn same_apart_from_timing(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..i]);
        let end = rest[i..]
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map_or(rest.len(), |n| i + n);
        let after = &rest[end..];
        let timing = [" 秒", " 毫秒", " 字节)"]
            .iter()
            .any(|unit| after.starts_with(unit));
        out.push_str(if timing { "N" } else { &rest[i..end] });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// 去掉信息里「某某 的输出(…):」那几块:程序自己说的话。
fn without_program_output(message: &str) -> String {
    let mut kept = Vec::new();
    let mut skipping = false;
    for line in message.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            skipping = line.contains("的输出(");
        }
        if !skipping {
            kept.push(line);
        }
    }
    kept.join("\n")
}

/// 端口号每次都不一样,其余的必须原样保留。
#[test]
fn normalize_hides_only_port_numbers() {
    assert_eq!(
        normalize("连不上服务器 127.0.0.1:40000,[::1]:7852;--port 41000;发出 8000 字节"),
        "连不上服务器 127.0.0.1:<端口>,[::1]:<端口>;--port <端口>;发出 8000 字节"
    );
}

/// 忽略 SIGTERM 的程序也逃不掉:评分器用 SIGKILL 结束程序,并且等它真的没了才继续。
#[cfg(target_os = "linux")]
#[test]
fn a_program_that_ignores_sigterm_is_gone_once_the_grader_is_done_with_it() {
    use harness::program::Program;

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ignores-sigterm.sh");
    let program = Program::spawn(&script, &[]).expect("能启动 fixtures/ignores-sigterm.sh");
    let pid = program.id();
    let line = program.first_line(Instant::now() + STARTUP);
    assert!(line.is_ok(), "脚本应该先打印一行:{line:?}");
    drop(program);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "进程 {pid} 在评分器结束它以后还在"
    );
}

/// 按项给分时(COURSE_KEEP_GOING),失败之后的检查照样运行;默认则停在第一个失败。
#[test]
fn later_steps_are_not_run_after_a_failure_by_default() {
    let report = harness::run(
        &lesson01::LESSON,
        Path::new(env!("CARGO_BIN_EXE_fixture-udp-server-fixed-port")),
        "lesson-01",
    );
    let statuses: Vec<Status> = report.steps.iter().map(|s| s.status.clone()).collect();
    assert_eq!(statuses[0], Status::Passed);
    assert_eq!(statuses[1], Status::Failed);
    assert!(statuses[2..].iter().all(|s| *s == Status::NotRun));
    let json = report.to_json();
    assert!(json.starts_with("{\"lesson\":\"01\""), "{json}");
    assert!(json.contains("\"status\":\"not_run\""), "{json}");
}
