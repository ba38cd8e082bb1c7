//! 评分框架的自测:每个「故意写错的程序」都必须在正确的那一项检查、在期限内、
//! 带着说出病因的信息失败。评分器能抓住它们,才能抓住学员的同类错误。

use std::path::Path;
use std::time::{Duration, Instant};

use harness::grader::{REPLY, STARTUP};
use harness::{Lesson, Report, Status, lesson01, lesson02, lesson03, lesson04, lesson05, lesson06};

/// 用 `lesson` 的评分器给一个程序打分,并确认它在第 `step` 项检查失败、信息里有 `says`。
#[track_caller]
fn fails_at(lesson: &Lesson, program: &str, step: usize, says: &[&str]) -> Report {
    let report = harness::run(lesson, Path::new(program), "lesson-xx");
    let failed = report
        .first_failure()
        .unwrap_or_else(|| panic!("{program} 应该在第 {step} 项检查失败,却全部通过了"));
    let message = failed.message.as_deref().unwrap_or_default();
    assert_eq!(
        failed.number, step,
        "{program} 应该在第 {step} 项检查失败:\n{message}"
    );
    for phrase in says {
        assert!(
            message.contains(phrase),
            "信息里应该有「{phrase}」:\n{message}"
        );
    }
    report
}

/// 一个永远不打印地址的程序,在启动期限内失败,而不是让测试挂住。
#[test]
fn a_program_that_never_prints_its_address_fails_within_the_deadline() {
    let started = Instant::now();
    fails_at(
        &lesson01::LESSON,
        env!("CARGO_BIN_EXE_fixture-silent"),
        1,
        &["没有在 stdout 打印任何一行", "local_addr"],
    );
    assert!(started.elapsed() < STARTUP + Duration::from_secs(3));
}

/// 崩溃的程序:它自己的 stderr 出现在信息里,学员能看到真正的原因。
#[test]
fn a_crash_shows_the_programs_own_stderr() {
    let started = Instant::now();
    fails_at(
        &lesson01::LESSON,
        env!("CARGO_BIN_EXE_fixture-crash"),
        1,
        &[
            "还没打印地址就退出了",
            "退出码 101",
            "fixture-crash: 配置文件读不到了",
            "fixture-crash 故意崩溃",
        ],
    );
    // 崩溃是马上就能看到的,不需要等任何期限。
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// 从不回复的服务器:在回复期限内失败,并说明服务器还在运行。
#[test]
fn a_server_that_never_replies_fails_at_the_echo_step() {
    let started = Instant::now();
    fails_at(
        &lesson01::LESSON,
        env!("CARGO_BIN_EXE_fixture-udp-server-sleeps"),
        2,
        &["没有回复", "服务器还在运行", "send_to"],
    );
    assert!(started.elapsed() < REPLY + Duration::from_secs(3));
}

/// 把回复发到写死端口的服务器:信息指出回复没有到达发送方。
#[test]
fn a_server_that_replies_to_a_fixed_port_is_told_so() {
    fails_at(
        &lesson01::LESSON,
        env!("CARGO_BIN_EXE_fixture-udp-server-fixed-port"),
        2,
        &["回复没有到达发送方", "不要写死地址或端口"],
    );
}

/// 500 字节缓冲区的服务器(Python 教程的写法):前四项通过,在大数据报那一项失败。
#[test]
fn a_server_with_a_small_buffer_fails_at_the_large_datagram() {
    let report = fails_at(
        &lesson01::LESSON,
        env!("CARGO_BIN_EXE_fixture-udp-server-truncates"),
        5,
        &["回复被截断了", "只收回 500 字节", "65507"],
    );
    assert_eq!(report.passed(), 4);
}

/// 没有读超时的客户端:被评分器在期限内结束,信息指向 set_read_timeout。
#[test]
fn a_client_without_a_timeout_is_stopped_and_told_why() {
    let started = Instant::now();
    fails_at(
        &lesson02::LESSON,
        env!("CARGO_BIN_EXE_fixture-udp-client-no-timeout"),
        4,
        &["没有结束,被评分器结束了", "set_read_timeout"],
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// 总是回复第一个客户端的循环服务器:在交错的那一项失败,并指出回复被发给了 A。
#[test]
fn a_loop_that_replies_to_the_first_client_fails_at_interleaving() {
    fails_at(
        &lesson03::LESSON,
        env!("CARGO_BIN_EXE_fixture-udp-loop-first-client"),
        4,
        &["客户端 B 的回复被发给了客户端 A", "我是客户端 B"],
    );
}

/// 把空数据报当成 EOF 的循环服务器:信息解释空数据报不是 EOF。
#[test]
fn a_loop_that_ignores_empty_datagrams_is_told_they_are_not_eof() {
    fails_at(
        &lesson03::LESSON,
        env!("CARGO_BIN_EXE_fixture-udp-loop-skips-empty"),
        6,
        &["没有回复空数据报", "不是 EOF"],
    );
}

/// 按项给分时(COURSE_KEEP_GOING),失败之后的检查照样运行;默认则停在第一个失败。
#[test]
fn later_steps_are_not_run_after_a_failure_by_default() {
    let report = harness::run(
        &lesson01::LESSON,
        Path::new(env!("CARGO_BIN_EXE_fixture-udp-server-sleeps")),
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

/// 一次 read 就当一条消息的 TCP 服务器(Python 教程的 recv(500)):两行一起到达时露馅。
#[test]
fn a_tcp_server_that_reads_once_is_told_tcp_is_a_byte_stream() {
    fails_at(
        &lesson04::LESSON,
        env!("CARGO_BIN_EXE_fixture-tcp-server-one-read"),
        4,
        &["第二行", "TCP 是字节流", "read_until"],
    );
}

/// 只调用一次 write、不看返回值的 TCP 服务器:客户端读得慢时回复不完整,信息指向 write_all。
#[test]
fn a_tcp_server_that_ignores_what_write_returns_is_told_to_use_write_all() {
    fails_at(
        &lesson04::LESSON,
        env!("CARGO_BIN_EXE_fixture-tcp-server-write-once"),
        7,
        &["回复只到了一半", "write_all"],
    );
}

/// 服务完一个客户端就退出的 TCP 服务器:信息说它没有循环。
#[test]
fn a_tcp_server_without_a_loop_is_told_to_keep_accepting() {
    fails_at(
        &lesson04::LESSON,
        env!("CARGO_BIN_EXE_fixture-tcp-server-exits-after-first"),
        3,
        &["服务器退出了", "已退出,退出码 0", "listener.incoming()"],
    );
}

/// 连接被拒绝就 panic 的 TCP 客户端:信息说不要 unwrap,要认出 ConnectionRefused。
#[test]
fn a_tcp_client_that_panics_on_refusal_is_told_to_explain_instead() {
    fails_at(
        &lesson05::LESSON,
        env!("CARGO_BIN_EXE_fixture-tcp-client-panics-on-refusal"),
        5,
        &["程序 panic 了", "ConnectionRefused", "拒绝"],
    );
}

/// 把说话人自己也算进广播的聊天室:在第 2 项失败,信息说「又发回给了他」。
#[test]
fn a_chat_server_that_echoes_to_the_sender_is_told_to_skip_the_sender() {
    fails_at(
        &lesson06::LESSON,
        env!("CARGO_BIN_EXE_fixture-chat-server-echo"),
        2,
        &[
            "又发回给了他",
            "[alice] 你好,bob!我是 alice",
            "跳过说话的人自己",
        ],
    );
}

/// 连接被重置就 panic 的聊天室:在第 4 项失败,信息指出线程 panic 和锁中毒。
#[test]
fn a_chat_server_that_panics_on_a_reset_is_told_about_the_poisoned_lock() {
    let started = Instant::now();
    fails_at(
        &lesson06::LESSON,
        env!("CARGO_BIN_EXE_fixture-chat-server-crash"),
        4,
        &["dave 离开的通知", "Connection reset", "panic", "中毒"],
    );
    assert!(started.elapsed() < REPLY + Duration::from_secs(5));
}

/// 广播时直接 write_all 的聊天室:一个不读消息的人卡住所有人。在第 5 项失败,
/// 信息说出「每个客户端一个写线程、有上限的队列」。
#[test]
fn a_chat_server_that_blocks_on_a_slow_client_is_told_to_queue() {
    let started = Instant::now();
    fails_at(
        &lesson06::LESSON,
        env!("CARGO_BIN_EXE_fixture-chat-server-blocking"),
        5,
        &["拖不住", "不读消息", "sync_channel", "try_send"],
    );
    assert!(started.elapsed() < REPLY * 2 + Duration::from_secs(10));
}

/// 只用一个线程的聊天客户端:在「不打字也能收消息」那一项失败,信息说要开两个线程。
///
/// 它没有服务器这一半,所以只用第 6 课里测客户端的那几项给它打分。
#[test]
fn a_one_thread_chat_client_is_told_to_use_two_threads() {
    let client_steps = &lesson06::LESSON.steps[8..];
    assert!(client_steps[0].name.starts_with("客户端"));
    let lesson = Lesson {
        steps: client_steps,
        ..lesson06::LESSON
    };
    fails_at(
        &lesson,
        env!("CARGO_BIN_EXE_fixture-chat-client-one-thread"),
        2,
        &[
            "客户端没有打印服务器发来的消息",
            "两个线程",
            "[小明] 小红,在吗?",
        ],
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
