//! 评分框架的自测:每个「故意写错的程序」都必须在正确的那一项检查、在期限内、
//! 带着说出病因的标题和信息失败;每个「换了一种写法的正确程序」都必须全部通过。
//! 评分器能抓住前者,才能抓住学员的同类错误;放过后者,才不会冤枉写对了的学员。
//!
//! 所有的例子都在 `harness::fixtures::CASES` 表里(tests/src/fixtures/,一课一个文件;规则清单也引用它),
//! 六个参考答案也作为「全部通过」的例子加进来(根目录的 `cargo test` 只在这里给它们评分,
//! 见 `harness::solutions`)。它们由一个测试同时运行(大多在等期限,
//! 并行跑才快),跑完一起报告:哪个没在该失败的地方失败、标题不对、信息里缺了什么,
//! 以及每个例子用了多久。`COURSE_FIXTURE_RUNS=3` 让每个例子跑三遍,并确认三遍的信息
//! 一字不差(端口号除外):同一个程序,每次都该得到同样的诊断。

use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use harness::fixtures::{CASES, Case, Expect};
use harness::grader::{STARTUP, scaled};
use harness::{Lesson, Status, lesson01};

use Expect::{Fails, Passes};

/// 例子程序所在的目录:和这个测试程序在同一个 target 目录里(cargo 先编好了这个包的所有 bin)。
fn programs_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("测试程序知道自己在哪");
    exe.parent()
        .and_then(Path::parent)
        .expect("测试程序在 target/<profile>/deps 里")
        .to_path_buf()
}

/// 一个例子程序(或者参考答案)的路径。
fn program_path(name: &str) -> PathBuf {
    harness::solutions::path_in(&programs_dir(), name)
}

/// 每一课的参考答案,作为「全部通过」的例子,和故意写错的例子同时评分。
static SOLUTIONS: LazyLock<Vec<Case>> = LazyLock::new(|| {
    harness::LESSONS
        .iter()
        .map(|lesson| Case {
            program: harness::solutions::package(lesson).leak(),
            mistake: "（正确）参考答案",
            lesson,
            skip: 0,
            expect: Passes,
            // 最慢的第 6 课单独评要 3 秒左右(第 6 项等一个 2 秒的写超时)。
            within: Duration::from_secs(10),
        })
        .collect()
});

/// 用 cargo 编好参考答案(根目录的 `cargo test` 不编译它们的包;已经是最新的就很快),
/// 放在例子程序旁边。
fn build_reference_solutions() {
    let dir = programs_dir();
    let target = dir.parent().expect("target/<profile> 的上一层是 target");
    assert_eq!(harness::solutions::build(target), dir);
}

/// 要运行的例子:例子表里的所有例子,加上每一课的参考答案。
///
/// 在 Wine 里不加参考答案:那里没有 cargo,.ci/windows 的 (a) 和 (b) 已经给 Windows 版的
/// 参考答案评过分了(期限放宽一倍:Wine 启动一个程序要上百毫秒,而这个自测按原样的期限跑)。
fn cases_to_run() -> Vec<&'static Case> {
    let mut cases: Vec<&Case> = CASES.to_vec();
    if under_wine() {
        println!("在 Wine 里:参考答案由 .ci/windows 的 (a)、(b) 评分,这里不评");
    } else {
        build_reference_solutions();
        cases.extend(SOLUTIONS.iter());
    }
    cases
}

/// 几个线程同时出错或者同时写日志的程序:它们自己的输出(哪个线程先 panic、评分器断开
/// 几个连接时谁的「离开」先记下)每次都可能不一样。比较几遍的信息时,不看这些程序自己的输出,
/// 只看评分器说的话。聊天室服务器都是这样:每个连接一个线程,各记各的日志。
fn racy(program: &str) -> bool {
    program.starts_with("fixture-chat-server-")
}

/// Wine 和真正的 Windows 说法不一样的地方:(例子, 信息里的一句或者一条提示)。评分器照真正的 Windows 写,
/// 所以 .ci/windows 在 Wine 里跑这个自测时,这几句不检查(别的系统上照样检查)。
///
/// - 没有 connect 的 UDP 套接字调用 send:Windows 报 10057(WSAENOTCONN,评分器认得),
///   Wine 8.0 报 10022(WSAEINVAL,什么都可能是,评分器不该猜)。
const WINE_DIFFERS: &[(&str, &str)] = &[
    (
        "fixture-udp-loop-send-without-address",
        "send_to(数据, 地址)",
    ),
    (
        "fixture-udp-loop-send-without-address",
        "send 不知道该发给谁",
    ),
];

/// 是否在 Wine 里运行:Wine 给它运行的每个程序都设置 WINELOADER。
fn under_wine() -> bool {
    cfg!(windows) && std::env::var_os("WINELOADER").is_some()
}

/// 同时最多运行这么多个例子。它们大多在等期限,CPU 用得很少。
const AT_ONCE: usize = 32;

/// 在 Wine 里同时运行的例子少一些:Wine 启动一个程序要花上百毫秒的 CPU(Linux 上不到一毫秒),
/// 两个核上同时启动几十个,启动本身就会拖过评分器的期限。
const AT_ONCE_UNDER_WINE: usize = 2;

/// 一个例子跑一遍的结果。
struct Outcome {
    elapsed: Duration,
    /// 超过了这个例子的期限(而评分器没被耽搁)。是不是真的慢,要单独重跑一次才知道。
    slow: bool,
    /// 这是单独重跑的结果(第一次和大家一起跑时超过了期限)。
    rerun: Option<Duration>,
    /// 这是单独重跑的结果:第一次和大家一起跑时结论不对,而评分器当时被耽搁了(见 [`wrong_while_busy`])。
    /// 记下第一次被耽搁了多久,和它错在哪里。
    busy_rerun: Option<(Duration, String)>,
    /// 不符合期望时,说明哪里不符合。
    problem: Option<String>,
    /// 第一个失败的检查的完整信息(端口号换成了 `<端口>`),用来比较几遍是否一样。
    message: String,
    /// 因为评分器被耽搁而重做的检查次数(空闲的机器上是 0)。
    redone: usize,
    /// 评分期间评分器一共被耽搁了多久(哨兵每次明显晚醒的时间加起来)。
    late: Duration,
    /// 评分期间机器挤不挤:有任务排队等 CPU 的时间超过了这段时间的十分之一
    /// (Linux 的 CPU 压力,见 `harness::stall::cpu_pressure`;别的系统上看哨兵)。
    crowded: bool,
}

fn run_case(case: &Case) -> Outcome {
    let lesson = Lesson {
        steps: &case.lesson.steps[case.skip..],
        ..*case.lesson
    };
    let started = Instant::now();
    let stalls = harness::stall::watch();
    let pressure = harness::stall::cpu_pressure();
    let report = harness::run(&lesson, &program_path(case.program), "lesson-xx");
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
                let wine_differs = under_wine() && WINE_DIFFERS.contains(&(case.program, phrase));
                if !wine_differs && !message.contains(phrase) {
                    problems.push(format!("信息里应该有「{phrase}」"));
                }
            }
            if !problems.is_empty() {
                problems.push(format!("完整的信息:\n{message}"));
            }
        }
    }
    // 得出结论的时间只在评分器没被耽搁时才有意义:机器忙不过来时,慢的是机器,不是评分器。
    // 在 Wine 里量到的主要是 Wine 启动程序的开销,也不检查;结论本身(哪一项、什么标题、
    // 说了什么)照样检查。
    let slow = elapsed > scaled(case.within) && !stalls.was_late() && !under_wine();
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
        slow,
        rerun: None,
        busy_rerun: None,
        problem: (!problems.is_empty()).then(|| problems.join("\n")),
        message,
        redone: report
            .steps
            .iter()
            .map(|s| s.attempts.saturating_sub(1))
            .sum(),
        late: stalls.lost(),
        crowded: match (pressure, harness::stall::cpu_pressure()) {
            (Some(before), Some(after)) => after.saturating_sub(before) > elapsed / 10,
            _ => !stalls.lost().is_zero(),
        },
    }
}

/// 一个在大家一起跑时超过了期限的例子,单独重跑一次:重跑的结果说了算,两次都慢才是问题。
fn slow_twice(case: &Case, first: Duration) -> Outcome {
    let mut again = run_case(case);
    again.rerun = Some(first);
    if again.slow {
        let slow = format!(
            "用了 {:.1} 秒(单独重跑一次也用了 {:.1} 秒),超过了 {:.1} 秒",
            first.as_secs_f64(),
            again.elapsed.as_secs_f64(),
            scaled(case.within).as_secs_f64()
        );
        again.problem = Some(match again.problem {
            Some(problem) => format!("{slow}\n{problem}"),
            None => slow,
        });
    }
    again
}

/// 和大家一起跑时结论不对、而评分器当时被耽搁过的例子,单独重跑一次,重跑的结论说了算。
///
/// 自测同时跑几十个例子,`.ci/soak` 又同时跑两份,两个核上排着几百个线程:一个服务器
/// 5 秒都轮不到打印第一行,这时「5 秒内没有打印」就是真的,结论却不是这个例子要考的。
/// 机器挤(Linux 上看 CPU 压力:有任务排队等 CPU 的时间超过一成),或者哨兵看到评分器被耽搁过,
/// 这样的结论就不作数,等只有它一个在跑时再看;单独跑时结论还不对,才是评分器的错。
/// 哨兵一个看不够:`.ci/soak 50 2` 里,被测程序排了一百多毫秒的队,哨兵却一点也没看到。
fn wrong_while_busy(case: &Case, first: &Outcome) -> Outcome {
    let mut again = run_case(case);
    again.busy_rerun = Some((first.late, first.problem.clone().unwrap_or_default()));
    again
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
    let cases = cases_to_run();
    let runs: usize = std::env::var("COURSE_FIXTURE_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
        .max(1);
    let mut jobs: Vec<(usize, usize)> = (0..cases.len())
        .flat_map(|case| (0..runs).map(move |run| (case, run)))
        .collect();
    // 期限长的先开始:它们多半要等满期限,放到最后开始的话,整个自测就要多等它们一轮。
    jobs.sort_by_key(|&(case, _)| std::cmp::Reverse(cases[case].within));
    let results: Mutex<Vec<(usize, usize, Outcome)>> = Mutex::new(Vec::new());
    let next = Mutex::new(0usize);
    thread::scope(|scope| {
        let at_once = if under_wine() {
            AT_ONCE_UNDER_WINE
        } else {
            AT_ONCE
        };
        for _ in 0..at_once.min(jobs.len()) {
            scope.spawn(|| {
                loop {
                    let job = {
                        let mut next = next.lock().unwrap();
                        let job = jobs.get(*next).copied();
                        *next += 1;
                        job
                    };
                    let Some((case, run)) = job else { return };
                    let outcome = run_case(cases[case]);
                    results.lock().unwrap().push((case, run, outcome));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(case, run, _)| (*case, *run));
    // 几十个例子同时跑,机器又忙的时候,个别例子会超过期限:那是排队,不是评分器慢。
    // 单独重跑一次(这时只有它一个在跑),还超过期限,才算真的慢。
    for (case, _, outcome) in &mut results {
        if outcome.slow {
            *outcome = slow_twice(cases[*case], outcome.elapsed);
        } else if outcome.problem.is_some() && (outcome.crowded || !outcome.late.is_zero()) {
            *outcome = wrong_while_busy(cases[*case], outcome);
        }
    }

    let mut problems = Vec::new();
    println!("例子                                          结论                     用时");
    for (case, run, outcome) in &results {
        let c = cases[*case];
        let name = c.program;
        let verdict = match &c.expect {
            Passes => format!("第 {} 课全部通过", c.lesson.display_number()),
            Fails { check, .. } => {
                format!("第 {} 课第 {check} 项失败", c.lesson.display_number())
            }
        };
        let busy = match (outcome.redone, outcome.late >= harness::stall::LATE) {
            (0, false) => String::new(),
            (0, true) => format!("  (评分器被耽搁 {:.2} 秒)", outcome.late.as_secs_f64()),
            (n, _) => format!(
                "  (评分器被耽搁 {:.2} 秒,重做了 {n} 项)",
                outcome.late.as_secs_f64()
            ),
        };
        let busy = match outcome.rerun {
            Some(first) => format!(
                "{busy}  (和大家一起跑时 {:.2} 秒,超过了期限,这是单独重跑的)",
                first.as_secs_f64()
            ),
            None => busy,
        };
        let busy = match &outcome.busy_rerun {
            Some((late, _)) => format!(
                "{busy}  (和大家一起跑时机器很挤、结论不对,评分器被耽搁了 {:.2} 秒,这是单独重跑的)",
                late.as_secs_f64()
            ),
            None => busy,
        };
        println!(
            "{name:<45} {verdict:<22} {:>5.2} 秒{busy}",
            outcome.elapsed.as_secs_f64()
        );
        if let Some((_, why)) = &outcome.busy_rerun {
            println!(
                "    第一次的结论:{}",
                why.lines().next().unwrap_or_default()
            );
        }
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
                match racy(c.program) {
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
    problems.extend(hints_go_to_their_fixtures(&cases, &results));
    let mut times: Vec<f64> = results
        .iter()
        .filter(|(case, _, _)| matches!(cases[*case].expect, Fails { .. }))
        .map(|(_, _, o)| o.elapsed.as_secs_f64())
        .collect();
    times.sort_by(f64::total_cmp);
    if let (Some(median), Some(max)) = (times.get(times.len() / 2), times.last()) {
        println!("得出失败结论的时间:中位数 {median:.2} 秒,最长 {max:.2} 秒");
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}

/// 每一条提示都恰好说给该听它的例子:列出的例子的信息里有它,别的例子的信息里没有。
fn hints_go_to_their_fixtures(cases: &[&Case], results: &[(usize, usize, Outcome)]) -> Vec<String> {
    let mut problems = Vec::new();
    for hint in harness::fixtures::HINTS {
        for (case, _, outcome) in results {
            let program = cases[*case].program;
            let listed = hint.fixtures.contains(&program);
            let has = outcome.message.contains(hint.marker);
            let wine_differs = under_wine() && WINE_DIFFERS.contains(&(program, hint.marker));
            if listed && !has && matches!(cases[*case].expect, Fails { .. }) && !wine_differs {
                problems.push(format!("✗ {program}:信息里应该有提示「{}」", hint.marker));
            }
            if !listed && has {
                problems.push(format!(
                    "✗ {program}:得到了不是给它的提示「{}」(只该给 {:?})",
                    hint.marker, hint.fixtures
                ));
            }
        }
        for listed in hint.fixtures {
            if !CASES.iter().any(|c| c.program == *listed) {
                problems.push(format!(
                    "✗ 提示「{}」列出的 {listed} 不在例子表里",
                    hint.marker
                ));
            }
        }
    }
    problems
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
        let timing = [" 秒", " 毫秒", " 字节)", " 句"]
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

/// 规则清单成立:每条规则都有检查、有违反它的例子,例子在那条规则的检查上失败,
/// 章节里还写着这条规则,每一项检查都查着至少一条规则。(course dev check 也核对它。)
#[test]
fn every_rule_has_a_check_a_fixture_and_its_sentence_in_the_chapter() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut problems = Vec::new();
    for lesson in harness::LESSONS {
        let chapter = std::fs::read_to_string(root.join(lesson.chapter)).expect("章节在");
        for problem in harness::rules::problems(lesson, &chapter) {
            problems.push(format!("第 {} 课:{problem}", lesson.display_number()));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
