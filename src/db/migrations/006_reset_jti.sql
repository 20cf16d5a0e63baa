-- The jti of the last password-reset link mailed to the user (NULL: none
-- outstanding). Only that link resets the password: a newer mail, or a
-- reset, voids every other one, however close together they were issued
-- (token times are whole seconds).
ALTER TABLE users ADD COLUMN reset_jti TEXT;
