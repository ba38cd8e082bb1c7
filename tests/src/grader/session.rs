//! 一项检查运行时的环境:被测程序在哪,启动过哪些程序,怎么启动一个服务器并找到它的地址。

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::finished::{Finished, failed_status};
use super::{EXIT, STARTUP, deadline, describe_ending, describe_exit, scaled};
use crate::diagnose::diagnose_stderr;
use crate::failure::{Failure, ProgramOutput};
use crate::program::{Ending, Output, Program, Reaper, WaitError};
use crate::status;
use crate::text::find_socket_addr;

/// 一个步骤运行时的环境:被测程序在哪,以及这一步启动过的程序(失败时要展示它们的输出)。
pub struct Session {
    program: PathBuf,
    name: String,
    pub(super) server_keeps_running: bool,
    /// 这一步启动过的程序。检查可以在好几个线程里同时启动程序(见 `grader::each_at_once`),
    /// 所以用锁;编号(「客户端 #2」)按启动的先后。
    started: Mutex<Vec<Started>>,
    /// 这一步启动的程序被放手以后,由它来结束(见 [`Reaper::finish`])。
    reaper: Reaper,
}

/// 这一步启动过的一个程序。
struct Started {
    /// 「服务器」「客户端」。
    role: String,
    /// 在这一步里独一无二的名字:「客户端」,或者「客户端 #2」。
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
    /// 这个服务器应该还在运行;它已经自己退出了,就是一次失败:说清它怎么退出的、为什么。
    /// `expected` 是这一课对「一直运行」的说法,`reproduce` 是怎么手动重现。
    pub fn expect_still_running(&mut self, expected: &str, reproduce: &str) -> Result<(), Failure> {
        let Some(status) = self.program.exited() else {
            return Ok(());
        };
        Err(Failure::new("服务器退出了")
            .expected(expected)
            .actual(describe_exit(Some(status)))
            .hint(crate::diagnose::server_exited(
                status,
                &self.program.output().stderr(),
            ))
            .reproduce(reproduce))
    }

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
            started: Mutex::new(Vec::new()),
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
    pub fn spawn(&self, label: &str, args: &[&str]) -> Result<Program, Failure> {
        self.launch(label, args, false, false)
    }

    /// 启动一个要读键盘输入的被测程序:评分器可以替学员打字、按 Ctrl-D。
    pub fn spawn_interactive(&self, label: &str, args: &[&str]) -> Result<Program, Failure> {
        self.launch(label, args, true, false)
    }

    /// 启动程序并记下它(失败时展示它的输出);没能启动就是一次失败。
    fn launch(
        &self,
        role: &str,
        args: &[&str],
        interactive: bool,
        keeps_running: bool,
    ) -> Result<Program, Failure> {
        let reaper = Some(self.reaper.clone());
        // 编号和登记在同一把锁下:同时启动的两个程序不会拿到同一个编号。
        let mut started = self.started();
        // 同一项检查里启动好几个同样的程序时(一个输入一个),给它们编上号:「客户端 #2」。
        let label = match started.iter().filter(|s| s.role == role).count() {
            0 => role.to_owned(),
            n => format!("{role} #{}", n + 1),
        };
        let program =
            Program::launch(&self.program, args, interactive, &label, reaper).map_err(|err| {
                Failure::new(format!("无法启动程序 {}", self.program.display()))
                    .actual(err.to_string())
                    .hint("先确认 `cargo build` 能成功;评分器启动的是编译好的程序。")
            })?;
        status::set_peer(role);
        started.push(Started {
            role: role.to_owned(),
            label,
            output: program.output(),
            keeps_running,
        });
        Ok(program)
    }

    /// 运行一个会自己结束的程序(比如客户端),最多等 `limit`,超时就结束它。
    ///
    /// 和别的被测程序一样是一个 [`Program`]:它的输出失败时会展示出来;这一项检查不再需要时
    /// (前面的检查已经失败),它会被马上结束,而不是让评分器等满期限。
    pub fn run_to_end(&self, label: &str, args: &[&str], limit: Duration) -> Finished {
        self.run_to_end_after(label, args, limit, |_| None)
    }

    /// 同 [`Session::run_to_end`],但 `limit` 从程序的第一个动作算起:`first_sign` 等它
    /// (比如等评分器收到它的数据报),返回评分器看到它的那一刻;看不到就返回 None,从启动算起。
    ///
    /// 忙碌的机器上,启动一个程序本身就可能花掉一秒多;从第一个动作算起,这段时间就不会
    /// 算到「放弃得太晚」的头上(见 [`Finished::active`])。
    pub fn run_to_end_after(
        &self,
        label: &str,
        args: &[&str],
        limit: Duration,
        first_sign: impl FnOnce(&mut Program) -> Option<Instant>,
    ) -> Finished {
        let limit = scaled(limit);
        let started = Instant::now();
        let mut program = match self.launch(label, args, false, false) {
            Ok(program) => program,
            Err(failure) => {
                return Finished {
                    status: failed_status(),
                    stdout: String::new(),
                    stderr: format!(
                        "(评分器无法启动程序:{})",
                        failure.actual.unwrap_or_default()
                    ),
                    timed_out: false,
                    limit,
                    elapsed: started.elapsed(),
                    active: started.elapsed(),
                };
            }
        };
        let first = first_sign(&mut program).unwrap_or(started);
        let exited = program.wait_exit(first + limit);
        let (elapsed, active) = (started.elapsed(), first.elapsed());
        if exited.is_none() {
            program.stop();
        }
        let output = program.output();
        // 到了期限才结束它;它要是恰好在这一刻自己退出了,那就算它自己退出的。
        let (status, timed_out) = match (exited, output.ending()) {
            (Some(status), _) | (None, Some(Ending::Exited(status))) => (status, false),
            _ => (failed_status(), true),
        };
        Finished {
            status,
            stdout: output.stdout(),
            stderr: output.stderr(),
            timed_out,
            limit,
            elapsed,
            active,
        }
    }

    /// 用 `--port 0` 启动服务器,等它在第一行 stdout 打印出实际绑定的地址。
    ///
    /// 端口 0 让操作系统挑一个空闲端口,所以并行运行的测试永远不会抢同一个端口。
    pub fn start_server(&self, extra_args: &[&str]) -> Result<Server, Failure> {
        self.start_server_as(&[], extra_args)
    }

    /// 同 [`Session::start_server`],但在 `--port 0` 之前先放上子命令(比如第 6 课的 `server`)。
    pub fn start_server_as(
        &self,
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
    /// 负责结束这一步的程序的 [`Reaper`](评分器用它取消一项不再需要的检查)。
    pub(super) fn reaper(&self) -> Reaper {
        self.reaper.clone()
    }

    pub(super) fn finish(&mut self, failed: bool) {
        self.reaper.finish(failed);
    }

    fn started(&self) -> MutexGuard<'_, Vec<Started>> {
        self.started.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn program_outputs(&self) -> Vec<ProgramOutput> {
        self.started()
            .iter()
            .map(|started| {
                let output = &started.output;
                let (lost_out, lost_err) = output.dropped();
                ProgramOutput {
                    label: started.label.clone(),
                    name: format!("{} {}", started.label, self.name),
                    ending: describe_ending(output.ending()),
                    stdout: output.stdout() + &lost_note(lost_out),
                    stderr: output.stderr() + &lost_note(lost_err),
                }
            })
            .collect()
    }

    /// 一个本该一直运行、却在这一步里自己退出了的服务器:它的退出状态和 stderr。
    pub(super) fn server_that_exited(&self) -> Option<(std::process::ExitStatus, String)> {
        self.started()
            .iter()
            .find_map(|started| match started.output.ending() {
                Some(Ending::Exited(status)) if started.keeps_running => {
                    Some((status, started.output.stderr()))
                }
                _ => None,
            })
    }
}

fn lost_note(lost: usize) -> String {
    match lost {
        0 => String::new(),
        n => format!("\n……(还有 {n} 字节输出没有保存)"),
    }
}
