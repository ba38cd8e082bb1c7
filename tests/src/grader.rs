//! 评分器:按顺序运行一课的各项检查(代码里叫 Step),记录每一项的结果,失败时给出诊断。
//!
//! 给学员看的文字里,评分器的检查叫「第 N 项」,骨架里要写的代码叫「第 N 步」:
//! 两套编号各管各的,免得「第 2 项没通过」被误读成「骨架的第 2 步写错了」。
//!
//! 每一步都启动一份新的被测程序,所以步骤之间互不影响;默认在第一个失败处停下
//! (学员只需要看一个问题),设置 `COURSE_KEEP_GOING=1` 则跑完所有步骤(老师按项给分)。
//! 设置 `COURSE_REPORT=文件` 会把每一步的结果以一行 JSON 追加到该文件,供程序读取。

use std::fs::OpenOptions;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use predicates::Predicate;

pub use crate::diagnose::diagnose_stderr;
use crate::diagnose::{Cause, Role, cause, diagnose};
use crate::failure::{Failure, ProgramOutput, Rendering};
use crate::program::{Ending, Output, Program, Reaper, WaitError};
use crate::report::{Report, Status, StepReport};
use crate::status;
use crate::text::find_socket_addr;

/// 一课:编号、标题、对应的章节,以及有序的步骤。
pub struct Lesson {
    /// 两位数的课号,和目录、包名一致,比如 "01"。
    pub number: &'static str,
    pub title: &'static str,
    /// 相对仓库根目录的章节文件,失败信息里会让学员去读它。
    pub chapter: &'static str,
    /// 这一课的服务器是不是应该一直运行(第 3、4、6 课)。是的话,服务器在一项检查里
    /// 自己退出了,就是这一项失败最可能的原因(见 [`run_with`])。第 1 课的服务器回复一次就退出。
    pub server_keeps_running: bool,
    pub steps: &'static [Step],
}

impl Lesson {
    /// 给人看的课号:"01" → "1"。
    pub fn display_number(&self) -> &'static str {
        self.number.trim_start_matches('0')
    }
}

/// 一个步骤:一句描述行为的话,分值,以及检查它的函数。
pub struct Step {
    pub name: &'static str,
    pub points: u32,
    pub check: fn(&mut Session) -> Result<(), Failure>,
}

/// 一个步骤运行时的环境:被测程序在哪,以及这一步启动过的程序(失败时要展示它们的输出)。
pub struct Session {
    program: PathBuf,
    name: String,
    server_keeps_running: bool,
    started: Vec<Started>,
    /// 这一步启动的程序被放手以后,由它来结束(见 [`Reaper::finish`])。
    reaper: Reaper,
}

/// 这一步启动过的一个程序。
struct Started {
    label: String,
    output: Arc<Output>,
    /// 它是不是一个本该一直运行的服务器。
    keeps_running: bool,
}

/// 一个已经启动、并报出了自己地址的服务器。
#[must_use = "Server 被 drop 时会立刻结束服务器进程"]
pub struct Server {
    pub program: Program,
    pub addr: SocketAddr,
}

impl Server {
    /// 给一个可能正在退出的服务器一点时间(最多 1 秒)把退出做完。
    ///
    /// 在失败的路上用:进程关闭套接字和「已退出」之间有一小段时间,立刻去查,
    /// 同一个错误有时会报成「不接受连接」,有时报成「退出了」。等它一下,信息才每次都一样。
    pub fn settle(&mut self) {
        self.program.wait_exit(deadline(Duration::from_secs(1)));
    }
}

impl Session {
    pub fn new(program: &Path, name: &str) -> Session {
        Session {
            program: program.to_owned(),
            name: name.to_owned(),
            server_keeps_running: false,
            started: Vec::new(),
            reaper: Reaper::default(),
        }
    }

    /// 学员在命令行里用的包名,比如 `lesson-01`,用于「手动重现」。
    pub fn name(&self) -> &str {
        &self.name
    }

    /// 被测程序的路径。
    pub fn path(&self) -> &Path {
        &self.program
    }

    /// 启动被测程序。它的输出会被记下,这一步失败时会展示出来。
    pub fn spawn(&mut self, label: &str, args: &[&str]) -> Result<Program, Failure> {
        self.launch(label, args, false, false)
    }

    /// 启动一个要读键盘输入的被测程序:评分器可以替学员打字、按 Ctrl-D。
    pub fn spawn_interactive(&mut self, label: &str, args: &[&str]) -> Result<Program, Failure> {
        self.launch(label, args, true, false)
    }

    /// 启动程序并记下它(失败时展示它的输出);没能启动就是一次失败。
    fn launch(
        &mut self,
        label: &str,
        args: &[&str],
        interactive: bool,
        keeps_running: bool,
    ) -> Result<Program, Failure> {
        let reaper = Some(self.reaper.clone());
        let program =
            Program::launch(&self.program, args, interactive, label, reaper).map_err(|err| {
                Failure::new(format!("无法启动程序 {}", self.program.display()))
                    .actual(err.to_string())
                    .hint("先确认 `cargo build` 能成功;评分器启动的是编译好的程序。")
            })?;
        status::set_peer(label);
        self.started.push(Started {
            label: label.to_owned(),
            output: program.output(),
            keeps_running,
        });
        Ok(program)
    }

    /// 运行一个会自己结束的程序(比如客户端),最多等 `limit`,超时就结束它。
    ///
    /// 用 assert_cmd 运行:它负责带截止时间地等待、超时后结束进程,并收集全部输出。
    pub fn run_to_end(&mut self, label: &str, args: &[&str], limit: Duration) -> Finished {
        let limit = scaled(limit);
        status::set_peer(label);
        let _status = status::waiting(&format!("{label}运行结束"), limit);
        let started = Instant::now();
        let output = assert_cmd::Command::new(&self.program)
            .args(args)
            .env("RUST_BACKTRACE", "0")
            .env("NO_COLOR", "1")
            .timeout(limit)
            .output();
        let elapsed = started.elapsed();
        let output = output.unwrap_or_else(|err| std::process::Output {
            status: failed_status(),
            stdout: Vec::new(),
            stderr: format!("(评分器无法启动程序 {}: {err})", self.program.display()).into_bytes(),
        });
        // assert_cmd 在超时时结束进程。不能只看「用了多久」:wait_timeout 可能比期限
        // 早一点点返回,这样一个超时的程序就会被当成「自己退出了」(.ci/soak 真的抓到过)。
        let slack = Duration::from_millis(100);
        let timed_out = if cfg!(unix) {
            crate::program::killed_by_us(output.status)
        } else {
            elapsed + slack >= limit
        };
        let record = Arc::new(Output::finished(&output, timed_out));
        self.started.push(Started {
            label: label.to_owned(),
            output: record,
            keeps_running: false,
        });
        Finished {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            timed_out,
            limit,
            elapsed,
        }
    }

    /// 用 `--port 0` 启动服务器,等它在第一行 stdout 打印出实际绑定的地址。
    ///
    /// 端口 0 让操作系统挑一个空闲端口,所以并行运行的测试永远不会抢同一个端口。
    pub fn start_server(&mut self, extra_args: &[&str]) -> Result<Server, Failure> {
        self.start_server_as(&[], extra_args)
    }

    /// 同 [`Session::start_server`],但在 `--port 0` 之前先放上子命令(比如第 6 课的 `server`)。
    pub fn start_server_as(
        &mut self,
        subcommand: &[&str],
        extra_args: &[&str],
    ) -> Result<Server, Failure> {
        let mut args = subcommand.to_vec();
        args.extend_from_slice(&["--port", "0"]);
        args.extend_from_slice(extra_args);
        let mut program = self.launch("服务器", &args, false, self.server_keeps_running)?;
        let command = format!("{} {}", self.name, args.join(" "));

        let line = match program.first_line(deadline(STARTUP)) {
            Ok(line) => line,
            Err(WaitError::Timeout) => {
                let on_stderr = find_socket_addr(&program.output().stderr()).is_some();
                let hint = if on_stderr {
                    "地址打印到了 stderr(eprintln!)。评分器从 stdout 读地址:用 println!。"
                } else {
                    "绑定成功后要立刻用 println! 打印 local_addr() 的结果(要带换行);\
                     如果程序先去接收数据再打印,它会一直卡在接收上。"
                };
                return Err(Failure::new(format!(
                    "服务器在 {} 秒内没有在 stdout 打印任何一行",
                    scaled(STARTUP).as_secs()
                ))
                .ran(&command)
                .expected("第一行输出里有实际绑定的地址,比如「正在监听 127.0.0.1:40000」")
                .actual("程序还在运行,但 stdout 上没有一行完整的输出")
                .hint(hint));
            }
            Err(WaitError::Closed) => {
                let status = program.wait_exit(deadline(EXIT));
                let stderr = program.output().stderr();
                return Err(Failure::new("服务器还没打印地址就退出了")
                    .ran(&command)
                    .expected("程序绑定地址、打印地址,然后继续运行等待数据")
                    .actual(describe_exit(status))
                    .hint(diagnose_stderr(&stderr)));
            }
        };

        let Some(addr) = find_socket_addr(&line) else {
            return Err(Failure::new("服务器的第一行输出里找不到地址")
                .ran(&command)
                .expected("第一行里有形如 127.0.0.1:40000 的地址(IP:端口)")
                .actual(format!("第一行是: {line}"))
                .hint("第一行要打印 socket.local_addr() 的结果,评分器靠它找到你的服务器。"));
        };
        if [0, 7852, 8998, 2023].contains(&addr.port()) {
            return Err(Failure::new(format!("服务器报出的端口是 {}", addr.port()))
                .ran(&command)
                .expected("用 --port 0 启动时,系统会分配一个随机的空闲端口,并打印这个真实端口")
                .actual(format!("第一行是: {line}"))
                .hint(
                    "端口 0 的意思是「请系统挑一个」。打印 socket.local_addr()(系统真正给的地址),\
                     而不是参数里的端口;也要确认你真的用了 --port 参数,而不是写死的端口。",
                ));
        }
        if !addr.ip().is_loopback() {
            return Err(Failure::new(format!("服务器监听在 {},而不是本机回环地址", addr.ip()))
                .ran(&command)
                .expected("默认只绑定 127.0.0.1:只有本机能连上,最安全")
                .actual(format!("第一行是: {line}"))
                .hint("--host 的默认值应该是 127.0.0.1。0.0.0.0 会让同一网络里的任何人都能访问你的程序。"));
        }
        Ok(Server { program, addr })
    }

    /// 这一步结束了:结束它启动的所有程序。没通过时,先让它们把正在做的事做完。
    fn finish(&mut self, failed: bool) {
        self.reaper.finish(failed);
    }

    fn program_outputs(&self) -> Vec<ProgramOutput> {
        self.started
            .iter()
            .map(|started| {
                let output = &started.output;
                let (lost_out, lost_err) = output.dropped();
                ProgramOutput {
                    label: format!("{} {}", started.label, self.name),
                    ending: describe_ending(output.ending()),
                    stdout: output.stdout() + &lost_note(lost_out),
                    stderr: output.stderr() + &lost_note(lost_err),
                }
            })
            .collect()
    }

    /// 一个本该一直运行、却在这一步里自己退出了的服务器:它的退出状态和 stderr。
    fn server_that_exited(&self) -> Option<(std::process::ExitStatus, String)> {
        self.started
            .iter()
            .find_map(|started| match started.output.ending() {
                Some(Ending::Exited(status)) if started.keeps_running => {
                    Some((status, started.output.stderr()))
                }
                _ => None,
            })
    }
}

/// 一个运行完的程序。
pub struct Finished {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// 是否因为超过期限而被结束。
    pub timed_out: bool,
    /// 评分器最多等它多久。
    pub limit: Duration,
    /// 从启动到结束用了多久。
    pub elapsed: Duration,
}

impl Finished {
    /// 用中文描述它是怎么结束的。
    pub fn describe(&self) -> String {
        if self.timed_out {
            format!("过了 {} 秒还没有结束,被评分器结束了", self.limit.as_secs())
        } else {
            describe_exit(Some(self.status))
        }
    }

    /// 是否 panic 了(退出码 101,或 stderr 里有 panicked)。
    pub fn panicked(&self) -> bool {
        self.status.code() == Some(101) || self.stderr.contains("panicked")
    }

    /// 一个「应该好好地报错退出」的程序要过四道关:按时退出、不 panic、退出码不是 0、
    /// stderr 说清了原因。第一道没过的关,配上它的提示,就是这一步的失败。
    pub fn expect_error_exit<P: Predicate<str>>(
        &self,
        failure: Failure,
        rules: ErrorExit<'_, P>,
    ) -> Result<(), Failure> {
        let hint = if self.timed_out {
            rules.hung
        } else if self.panicked() {
            rules.panicked
        } else if self.status.success() {
            rules.succeeded
        } else if !rules.explains.eval(&self.stderr) {
            rules.unexplained
        } else {
            return Ok(());
        };
        Err(failure.hint(hint))
    }
}

impl Finished {
    /// 「大约 `timeout` 之后放弃」从两边检查:不能早于 `timeout`(没等够就放弃,
    /// 比如根本没用 --timeout 的值),也不能晚很多(比如用的是默认的超时,而不是 --timeout)。
    /// 晚多少算「很多」:[`LATE`],慢机器上按 `COURSE_TIMEOUT_SCALE` 放大。
    pub fn expect_on_time(&self, failure: Failure, timeout: Duration) -> Result<(), Failure> {
        let secs = |d: Duration| format!("{:.1}", d.as_secs_f64());
        let latest = timeout + scaled(LATE);
        if self.elapsed < timeout.mul_f64(0.95) {
            return Err(failure
                .headline(format!(
                    "客户端没等够 {} 秒就放弃了",
                    timeout.as_secs()
                ))
                .actual(format!("{} 秒后就退出了", secs(self.elapsed)))
                .hint(
                    "超时要用 --timeout 的值:set_read_timeout(Some(Duration::from_secs(timeout)))。                     读超时到了,recv / read 才会返回超时的错误;在那之前就放弃,说明没有真的在等。",
                ));
        }
        if self.elapsed > latest {
            return Err(failure
                .headline(format!(
                    "--timeout {} 的客户端等了太久才放弃",
                    timeout.as_secs()
                ))
                .actual(format!(
                    "{} 秒后才退出;最晚应该在 {} 秒左右",
                    secs(self.elapsed),
                    secs(latest)
                ))
                .hint(
                    "超时要用 --timeout 参数的值,不要写死(也不要用参数的默认值):                     set_read_timeout(Some(Duration::from_secs(args.timeout)))。",
                ));
        }
        Ok(())
    }
}

/// 一个超时的程序最多可以比它的超时晚这么久放弃(启动、打印、退出都要时间)。
pub const LATE: Duration = Duration::from_millis(1500);

/// 该失败的程序却以退出码 0 退出时的提示(几课共用)。
pub const NOT_A_SUCCESS: &str =
    "这种情况就是失败:run 要返回 Err,main 据此返回非 0 的退出码(ExitCode::FAILURE)。";

/// [`Finished::expect_error_exit`] 的四道关各自的提示,以及「说清原因」的标准。
pub struct ErrorExit<'a, P> {
    /// 过了期限还没退出时的提示。
    pub hung: &'a str,
    /// panic 时的提示。
    pub panicked: &'a str,
    /// 以退出码 0 退出时的提示。
    pub succeeded: &'a str,
    /// stderr 要满足的条件。
    pub explains: P,
    /// stderr 不满足条件时的提示。
    pub unexplained: &'a str,
}

#[cfg(unix)]
fn failed_status() -> std::process::ExitStatus {
    use std::os::unix::process::ExitStatusExt;
    std::process::ExitStatus::from_raw(1 << 8)
}

#[cfg(windows)]
fn failed_status() -> std::process::ExitStatus {
    use std::os::windows::process::ExitStatusExt;
    std::process::ExitStatus::from_raw(1)
}

fn lost_note(lost: usize) -> String {
    match lost {
        0 => String::new(),
        n => format!("\n……(还有 {n} 字节输出没有保存)"),
    }
}

/// 程序启动后打印地址的期限。
pub const STARTUP: Duration = Duration::from_secs(5);
/// 等一个回复的期限。
pub const REPLY: Duration = Duration::from_secs(5);
/// 等程序自己退出的期限。
pub const EXIT: Duration = Duration::from_secs(5);
/// 「一个不多」:该收的都收到以后,再等这么久,确认没有多出来的东西。
/// 多出来的东西(重复的回复、多的一行)都是紧跟着正确的那份一起来的,在本机上只差几微秒。
pub const NOTHING_MORE: Duration = Duration::from_millis(200);

/// 从现在起 `limit` 之后的时刻。慢机器上可以用 `COURSE_TIMEOUT_SCALE=3` 把所有期限放大。
pub fn deadline(limit: Duration) -> Instant {
    Instant::now() + scaled(limit)
}

/// 按 `COURSE_TIMEOUT_SCALE` 放大的时长。
pub fn scaled(limit: Duration) -> Duration {
    let scale = std::env::var("COURSE_TIMEOUT_SCALE")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 1.0)
        .unwrap_or(1.0);
    limit.mul_f64(scale)
}

/// 用中文描述程序的退出状态。
pub fn describe_exit(status: Option<std::process::ExitStatus>) -> String {
    match status {
        Some(status) => describe_ending(Some(Ending::Exited(status))),
        None => "程序关闭了 stdout,但没有退出".to_owned(),
    }
}

fn describe_ending(ending: Option<Ending>) -> String {
    match ending {
        None => "仍在运行".to_owned(),
        Some(Ending::Killed) => "仍在运行,已被评分器结束".to_owned(),
        Some(Ending::Exited(status)) => match status.code() {
            Some(0) => "已退出,退出码 0".to_owned(),
            Some(101) => "已退出,退出码 101:程序 panic 了".to_owned(),
            Some(code) => format!("已退出,退出码 {code}"),
            None => format!("被信号结束:{status}"),
        },
    }
}

/// 这一步没通过,而一个本该一直运行的服务器在这一步里自己退出了:那多半就是原因。
///
/// 评分器看到的只是结果(没有回复、连接被重置、连接关闭),真正的原因是服务器不在了。
/// 标题统一成「服务器退出了」(同一个错误,评分器先看到哪个现象是有先后的,标题却每次都一样),
/// 「实际」里保留评分器看到的现象,提示说出它退出的原因。检查自己已经说了「…服务器退出了」的,不动它。
fn server_exit_first(failure: Failure, session: &Session) -> Failure {
    if failure.headline.ends_with("服务器退出了") {
        return failure;
    }
    let Some((status, stderr)) = session.server_that_exited() else {
        return failure;
    };
    let mut seen = Vec::new();
    if !failure.headline.contains("退出") {
        seen.push(format!("评分器看到:{}", failure.headline));
    }
    seen.extend(failure.actual.clone());
    seen.push(format!("服务器:{}", describe_exit(Some(status))));
    failure
        .headline("服务器退出了")
        .actual(seen.join("\n"))
        .hint(crate::diagnose::server_exited(status, &stderr))
}

/// 程序走到了一个没写完的 `todo!()`(哪怕只是某个线程):这比任何别的猜测都更可能是原因。
fn todo_first(failure: Failure, programs: &[ProgramOutput]) -> Failure {
    let already = failure
        .hint
        .as_deref()
        .is_some_and(|h| h.contains("todo!()"));
    match programs
        .iter()
        .find(|p| cause(&p.stderr) == Some(Cause::Todo))
    {
        Some(program) if !already => failure.hint(diagnose(Role::Server, &program.stderr)),
        _ => failure,
    }
}

/// 按顺序运行一课的步骤,返回报告(不 panic)。
///
/// `name` 是失败信息里「手动重现」要用的包名,通常就是程序的文件名(`lesson-01`)。
pub fn run(lesson: &Lesson, program: &Path, name: &str) -> Report {
    let keep_going = std::env::var_os("COURSE_KEEP_GOING").is_some_and(|v| v != "0");
    run_with(lesson, program, name, keep_going)
}

/// 同 [`run`],但明确指定是否跑完所有步骤,不看环境变量(`course grade` 用它按项给分)。
pub fn run_with(lesson: &Lesson, program: &Path, name: &str, keep_going: bool) -> Report {
    let mut report = Report {
        lesson: lesson.number,
        title: lesson.title,
        program: name.to_owned(),
        steps: Vec::new(),
    };
    let mut stopped = false;
    for (i, step) in lesson.steps.iter().enumerate() {
        let number = i + 1;
        let mut record = StepReport {
            number,
            name: step.name,
            points: step.points,
            status: Status::NotRun,
            millis: 0,
            message: None,
            headline: None,
        };
        if !stopped {
            let started = Instant::now();
            status::set_step(&format!("第 {number} 项"));
            let mut session = Session::new(program, name);
            session.server_keeps_running = lesson.server_keeps_running;
            let result = (step.check)(&mut session);
            // 这一步的程序都已经放手了:通过了就立刻结束它们;没通过就先让它们把话说完,
            // 输出和结局才完整,而且每次都一样。
            session.finish(result.is_err());
            record.millis = started.elapsed().as_millis();
            match result {
                Ok(()) => record.status = Status::Passed,
                Err(failure) => {
                    let programs = session.program_outputs();
                    let failure = server_exit_first(failure, &session);
                    let failure = todo_first(failure, &programs);
                    let rendering = Rendering {
                        step: format!(
                            "第 {} 课 · 第 {number} 项检查「{}」",
                            lesson.display_number(),
                            step.name
                        ),
                        failure: &failure,
                        programs: &programs,
                        chapter: format!(
                            "第 {} 章「{}」: {}",
                            lesson.display_number(),
                            lesson.title,
                            lesson.chapter
                        ),
                    };
                    record.status = Status::Failed;
                    record.headline = Some(failure.headline.clone());
                    record.message = Some(rendering.render());
                    stopped = !keep_going;
                }
            }
        }
        report.steps.push(record);
    }
    report
}

/// 给一课评分:全部通过则返回,否则打印诊断并让测试失败。`cargo test -p lesson-NN` 调用的就是它。
pub fn grade(lesson: &Lesson, program: &str) {
    let path = Path::new(program);
    let name = path
        .file_stem()
        .map_or_else(|| program.to_owned(), |s| s.to_string_lossy().into_owned());
    let report = run(lesson, path, &name);
    write_report(&report);
    // 诊断写到 stdout(cargo test 会在失败的测试下面原样显示它),然后不经 panic 钩子
    // 结束测试:这样学员看到的是诊断,而不是评分器自己的 panic 位置和调用栈。
    println!("{}", report.explain());
    if let Some(failed) = report.first_failure() {
        std::panic::resume_unwind(Box::new(format!(
            "第 {} 课的第 {} 项检查没有通过",
            lesson.display_number(),
            failed.number
        )));
    }
}

/// 如果设置了 `COURSE_REPORT`,把报告作为一行 JSON 追加到那个文件。
pub fn write_report(report: &Report) {
    let Some(path) = std::env::var_os("COURSE_REPORT") else {
        return;
    };
    let line = report.to_json() + "\n";
    let written = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(err) = written {
        eprintln!("无法写入评分报告 {}: {err}", Path::new(&path).display());
    }
}
