//! 按顺序运行一课的检查,记录结果,没通过时补全诊断、渲染成中文。

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::{Lesson, Session, describe_exit};
use crate::diagnose::{Cause, Role, cause, diagnose};
use crate::failure::{Failure, ProgramOutput, Rendering};
use crate::program::Reaper;
use crate::report::{Report, Status, StepReport};
use crate::stall;
use crate::status;

/// 这一步没通过,而一个本该一直运行的服务器在这一步里自己退出了:那多半就是原因。
///
/// 评分器看到的只是结果(没有回复、连接被重置、连接关闭),真正的原因是服务器不在了。
/// 标题统一成「服务器退出了」(同一个错误,评分器先看到哪个现象是有先后的,标题却每次都一样),
/// 「实际」里保留评分器看到的现象,提示说出它退出的原因。检查自己的标题已经说了退出
/// (比如「服务器还没打印地址就退出了」,那是启动时的事,和循环无关),就不动它。
fn server_exit_first(failure: Failure, session: &Session) -> Failure {
    if failure.headline.contains("退出") {
        return failure;
    }
    let Some((status, stderr)) = session.server_that_exited() else {
        return failure;
    };
    let mut seen = vec![format!("评分器看到:{}", failure.headline)];
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

/// 每一次都失败了,而每一次评分器自己都被耽搁过:照实说,这个结论可能是机器太忙造成的。
fn busy_machine(failure: Failure, late: Duration, attempts: usize) -> Failure {
    let note = format!(
        "注意:评分时这台机器很忙,评分器自己一共被耽搁了 {:.1} 秒以上(做了 {attempts} 次,\
         每一次都是这样)。上面的结论可能只是因为评分器没能按时说话或按时看。\
         等机器空闲时再评一次;还是这样的话,可以设 COURSE_TIMEOUT_SCALE=3 放宽所有期限。",
        late.as_secs_f64()
    );
    let hint = match &failure.hint {
        Some(hint) => format!("{hint}\n{note}"),
        None => note,
    };
    failure.hint(hint)
}

/// 按顺序运行一课的步骤,返回报告(不 panic)。
///
/// `name` 是失败信息里「手动重现」要用的包名,通常就是程序的文件名(`lesson-01`)。
pub fn run(lesson: &Lesson, program: &Path, name: &str) -> Report {
    let keep_going = std::env::var_os("COURSE_KEEP_GOING").is_some_and(|v| v != "0");
    run_with(lesson, program, name, keep_going)
}

/// 一课里最多同时运行几项检查(`COURSE_PARALLEL` 可以改,最少 1)。
///
/// 每一项检查都启动自己的一份被测程序、用自己的端口,彼此互不相干;它们大多在等
/// (等回复、等超时),CPU 用得很少。同时运行,一课的评分就只比最慢的那一项长一点。
const PARALLEL: usize = 4;

fn parallel() -> usize {
    std::env::var("COURSE_PARALLEL")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(PARALLEL)
        .max(1)
}

/// 同 [`run`],但明确指定是否跑完所有步骤,不看环境变量(`course grade` 用它按项给分)。
///
/// 检查同时运行(见 [`PARALLEL`]),结果按编号排列。不跑完所有步骤时,第一个失败之后的检查
/// 不再开始;已经开始的,结果也不报告(记为「没有运行」):学员一次只需要看一个问题,
/// 报告也不会因为哪一项碰巧先跑完而不同。
pub fn run_with(lesson: &Lesson, program: &Path, name: &str, keep_going: bool) -> Report {
    let steps = lesson.steps;
    let next = Mutex::new(0usize);
    let first_failure = AtomicUsize::new(usize::MAX);
    let records: Mutex<Vec<Option<StepReport>>> = Mutex::new(vec![None; steps.len()]);
    // 正在运行的检查:前面的一项失败了,后面正在运行的就不再需要,马上取消(结束它们的程序)。
    let running: Mutex<Vec<(usize, Reaper)>> = Mutex::new(Vec::new());
    let lock = |m: &Mutex<Vec<(usize, Reaper)>>| {
        m.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(i, r)| (*i, r.clone()))
            .collect::<Vec<_>>()
    };
    thread::scope(|scope| {
        for _ in 0..parallel().min(steps.len()) {
            scope.spawn(|| {
                loop {
                    let i = {
                        let mut next = next.lock().unwrap_or_else(PoisonError::into_inner);
                        let i = *next;
                        *next += 1;
                        i
                    };
                    if i >= steps.len() {
                        return;
                    }
                    if !keep_going && i > first_failure.load(Ordering::SeqCst) {
                        continue;
                    }
                    let record = run_step(lesson, i, program, name, |reaper| {
                        running
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push((i, reaper));
                        // 开始之前,前面已经有检查失败了:这一项白跑,马上取消。
                        if !keep_going && i > first_failure.load(Ordering::SeqCst) {
                            lock(&running)
                                .into_iter()
                                .filter(|(j, _)| *j == i)
                                .for_each(|(_, r)| r.cancel());
                        }
                    });
                    running
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .retain(|(j, _)| *j != i);
                    if record.status == Status::Failed {
                        first_failure.fetch_min(i, Ordering::SeqCst);
                        if !keep_going {
                            for (j, reaper) in lock(&running) {
                                if j > i {
                                    reaper.cancel();
                                }
                            }
                        }
                    }
                    records.lock().unwrap_or_else(PoisonError::into_inner)[i] = Some(record);
                }
            });
        }
    });
    let first_failure = first_failure.into_inner();
    let records = records.into_inner().unwrap_or_else(PoisonError::into_inner);
    let steps = records
        .into_iter()
        .enumerate()
        .map(|(i, record)| match record {
            Some(record) if keep_going || i <= first_failure => record,
            _ => StepReport::not_run(i + 1, &steps[i]),
        })
        .collect();
    Report {
        lesson: lesson.number,
        title: lesson.title,
        program: name.to_owned(),
        steps,
    }
}

/// 一项检查最多做几次。只有评分器自己在检查期间被耽搁了(见 [`crate::stall`]),
/// 失败的结论才不可信、要重做;空闲的机器上每一项都只做一次。
const ATTEMPTS: usize = 3;

/// 运行第 `i` 项检查(从 0 数起),记下它的结果;没通过时补全诊断、渲染成中文。
///
/// `started(reaper)` 在检查(每一次尝试)开始之前调用:调用方拿着这个 [`Reaper`],
/// 随时可以取消这一项。
fn run_step(
    lesson: &Lesson,
    i: usize,
    program: &Path,
    name: &str,
    mut started: impl FnMut(Reaper),
) -> StepReport {
    let step = &lesson.steps[i];
    let number = i + 1;
    let mut record = StepReport::not_run(number, step);
    let clock = Instant::now();
    status::set_step(number);
    let mut attempt = 0;
    let (session, result, late) = loop {
        attempt += 1;
        let watch = stall::watch();
        let mut session = Session::new(program, name);
        session.server_keeps_running = lesson.server_keeps_running;
        let reaper = session.reaper();
        started(reaper.clone());
        let result = (step.check)(&mut session);
        // 这一步的程序都已经放手了:通过了就立刻结束它们;没通过就先让它们把话说完,
        // 输出和结局才完整,而且每次都一样。
        session.finish(result.is_err());
        let failed = matches!(&result, Err(failure) if !failure.skipped);
        let late = watch.lost();
        if !failed || late < stall::LATE || attempt == ATTEMPTS || reaper.is_cancelled() {
            break (session, result, late);
        }
    };
    record.millis = clock.elapsed().as_millis();
    record.attempts = attempt;
    let result = result.map_err(|failure| match late >= stall::LATE && !failure.skipped {
        true => busy_machine(failure, late, attempt),
        false => failure,
    });
    match result {
        Ok(()) => record.status = Status::Passed,
        Err(skip) if skip.skipped => {
            record.status = Status::Skipped;
            record.headline = Some(skip.headline);
        }
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
                chapter: format!("课本「{}」: {}", lesson.chapter_title(), lesson.chapter),
            };
            record.status = Status::Failed;
            record.headline = Some(failure.headline.clone());
            record.message = Some(rendering.render());
        }
    }
    record
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
    // 在终端上,标题和「期望/实际/提示」带颜色;被读走的输出(测试、管道)不带。
    let explained = report.explain();
    if crate::failure::colour_wanted() {
        println!("{}", crate::failure::paint(&explained));
    } else {
        println!("{explained}");
    }
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
