# Tests of `ssah train --resume` and of interruption (needs the data of train_tests.cmake):
# --epochs 1 then --resume to --epochs 2 gives the codes of a straight --epochs 2 run byte for byte;
# a finished K is skipped; a command line describing other data or options is rejected; SIGINT
# stops a run with status 130, leaving a checkpoint that encodes and resumes (interrupt_test.sh).
set(rout "${CMAKE_CURRENT_BINARY_DIR}/resume_test_output")
set(rsmall --bits 16 --hidden 32 --passes 1 --batch-size 64)
set(rinputs ${good_inputs} --split ${td}/split)

ssah_train_test(resume_straight EXPECT ok ARGS train ${rinputs} ${rsmall} --epochs 2 --out ${rout}/straight)
set_tests_properties(ssah_cli.resume_straight PROPERTIES FIXTURES_SETUP ssah_resume_straight)
ssah_train_test(resume_first_epoch EXPECT ok ARGS train ${rinputs} ${rsmall} --epochs 1 --out ${rout}/resumed)
set_tests_properties(ssah_cli.resume_first_epoch PROPERTIES FIXTURES_SETUP ssah_resume_first)
ssah_train_test(resume_second_epoch EXPECT ok ARGS train ${rinputs} ${rsmall} --epochs 2 --resume ${rout}/resumed
  STDOUT "resuming the run in .*K = 16: continuing from epoch 1\nK = 16 [(]")
set_tests_properties(ssah_cli.resume_second_epoch PROPERTIES FIXTURES_REQUIRED "ssah_train_data;ssah_resume_first"
                     FIXTURES_SETUP ssah_resume_second)
foreach(f K16_img_query K16_img_db K16_txt_query K16_txt_db)
  add_test(NAME ssah_cli.resume_matches_straight_${f}
           COMMAND ${CMAKE_COMMAND} -E compare_files ${rout}/straight/codes/${f}.npy ${rout}/resumed/codes/${f}.npy)
  set_tests_properties(ssah_cli.resume_matches_straight_${f} PROPERTIES
                       FIXTURES_REQUIRED "ssah_resume_straight;ssah_resume_second" LABELS cli)
endforeach()
add_test(NAME ssah_cli.resume_report COMMAND ${CMAKE_COMMAND} -DOUT=${rout}/resumed
         -P "${CMAKE_CURRENT_SOURCE_DIR}/tests/check_resumed_report.cmake")
set_tests_properties(ssah_cli.resume_report PROPERTIES FIXTURES_REQUIRED ssah_resume_second LABELS cli)
# The tests below only read ${rout}/resumed or fail before writing to it; they run after the comparisons.
set(after_second "ssah_train_data;ssah_resume_second")
set(checks_of_second ssah_cli.resume_report)
foreach(f K16_img_query K16_img_db K16_txt_query K16_txt_db)
  list(APPEND checks_of_second ssah_cli.resume_matches_straight_${f})
endforeach()
ssah_train_test(resume_finished EXPECT ok ARGS train ${rinputs} ${rsmall} --epochs 2 --resume ${rout}/resumed
  STDOUT "K = 16: finished earlier [(]2 epochs[)], skipped")
ssah_train_test(resume_other_data EXPECT fail
  ARGS train --modality img=${td}/txt.npy --modality txt=${td}/img.npy --labels ${td}/labels.npy --split ${td}/split
       ${rsmall} --epochs 2 --resume ${rout}/resumed
  STDERR "^ssah train: error: --resume .*resumed: this command line does not describe the run there: the modality \
list is [[].*\"sample_shape\":[[]32[]].* there but [[].*\"sample_shape\":[[]64[]].* here")
ssah_train_test(resume_other_options EXPECT fail
  ARGS train ${rinputs} --bits 16 --hidden 32 --passes 1 --batch-size 32 --epochs 2 --resume ${rout}/resumed
  STDERR "^ssah train: error: --resume .*: hyperparameter batch_size [(]--batch-size[)] is 64 there but 32 here")
# --hidden sets two settings; the message names the option's own, not the one that sorts first.
ssah_train_test(resume_other_hidden EXPECT fail
  ARGS train ${rinputs} --bits 16 --hidden 16 --passes 1 --batch-size 64 --epochs 2 --resume ${rout}/resumed
  STDERR "^ssah train: error: --resume .*: hyperparameter hidden [(]--hidden[)] is [[]32[]] there but [[]16[]] here")
ssah_train_test(resume_fewer_epochs EXPECT fail ARGS train ${rinputs} ${rsmall} --epochs 1 --resume ${rout}/resumed
  STDERR "^ssah train: error: --resume .*model-K16[.]safetensors' has 2 epochs, more than --epochs 1")
ssah_train_test(resume_other_objective EXPECT fail
  ARGS train ${rinputs} --bits 16 --hidden 32 --passes 1 --batch-size 64 --objective reference --epochs 2
       --resume ${rout}/resumed
  STDERR "^ssah train: error: --resume .*: hyperparameter objective [(]--objective[)] is \"paper\" there but \"reference\" here")
ssah_train_test(resume_no_run EXPECT fail ARGS train ${rinputs} ${rsmall} --resume ${rout}/no_such_run
  STDERR "^ssah train: error: --resume .*no_such_run: no such folder")
ssah_train_test(resume_other_out EXPECT fail ARGS train ${rinputs} ${rsmall} --out ${rout}/x --resume ${rout}/resumed
  STDERR "^ssah train: error: --resume .* continues in that folder; --out .* must be omitted or the same")
# Each of them takes the run folder's lock (a second `ssah train` on the folder is refused with
# "another ssah train is writing to this folder"), so they run one at a time: under ctest -j they
# raced, and resume_other_options once got the lock's message instead of its own.
foreach(t resume_finished resume_other_data resume_other_options resume_other_hidden resume_fewer_epochs
          resume_other_objective resume_other_out)
  set_tests_properties(ssah_cli.${t} PROPERTIES FIXTURES_REQUIRED "${after_second}" DEPENDS "${checks_of_second}"
                       RESOURCE_LOCK ssah_resume_resumed_folder)
endforeach()

if(UNIX)
  add_test(NAME ssah_cli.train_interrupt
           COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/tests/interrupt_test.sh" $<TARGET_FILE:ssah_cli> ${td}
                   ${rout}/interrupted)
  set_tests_properties(ssah_cli.train_interrupt PROPERTIES FIXTURES_REQUIRED ssah_train_data LABELS cli TIMEOUT 300)
endif()
